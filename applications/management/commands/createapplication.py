from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand

from applications.management import secret_output as output
from applications.services import create_application
from portal.actors import COMMAND_LINE
from portal.management.arguments import add_organization_argument


class Command(BaseCommand):
    help = "Create an Application exactly as the portal does and print its client ID and secret once."

    def add_arguments(self, parser):
        add_organization_argument(parser)
        parser.add_argument("--name", required=True)
        parser.add_argument("--description", default="")
        parser.add_argument(
            "--scopes", required=True, help='Space-separated, e.g. "read:credentials create:credentials".'
        )
        output.add_output_arguments(parser)

    def handle(self, *args, organization, name, description, scopes, base_url, **options):
        org = output.organization_named(organization)
        try:
            application, secret = create_application(
                organization=org, name=name, description=description, scopes=scopes.split(), actor=COMMAND_LINE
            )
        except ValidationError as error:
            raise output.refusal(error)
        result = {
            "client_id": application.client_id,
            "client_secret": secret,
            "scopes": application.scopes,
            "token_endpoint": output.token_endpoint_for(base_url),
        }
        headline = f"Created application {application.name!r} in {org.name!r}."
        output.print_once(self.stdout, headline=headline, result=result, as_json=options["json"])
