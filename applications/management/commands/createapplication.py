import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from applications.services import create_application
from portal.actors import COMMAND_LINE
from portal.origin import token_endpoint
from portal.selectors import find_organization


class Command(BaseCommand):
    help = "Create an Application exactly as the portal does and print its client ID and secret once."

    def add_arguments(self, parser):
        parser.add_argument("--organization", required=True, help="The organization's name or slug.")
        parser.add_argument("--name", required=True)
        parser.add_argument("--description", default="")
        parser.add_argument(
            "--scopes", required=True, help='Space-separated, e.g. "read:credentials create:credentials".'
        )
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")
        parser.add_argument(
            "--base-url",
            default="",
            help="Origin for token_endpoint (default: PUBLIC_BASE_URL or http://127.0.0.1:8000).",
        )

    def handle(self, *args, organization, name, description, scopes, base_url, **options):
        from django.conf import settings

        org = find_organization(organization)
        if org is None:
            raise CommandError(f"No organization named {organization!r}.")
        try:
            application, secret = create_application(
                organization=org, name=name, description=description, scopes=scopes.split(), actor=COMMAND_LINE
            )
        except ValidationError as error:
            raise CommandError(" ".join(f"{field}: {' '.join(msgs)}" for field, msgs in error.message_dict.items()))
        origin = (base_url or settings.PUBLIC_BASE_URL or "http://127.0.0.1:8000").rstrip("/")
        result = {
            "client_id": application.client_id,
            "client_secret": secret,
            "scopes": application.scopes,
            "token_endpoint": token_endpoint(origin),
        }
        if options["json"]:
            self.stdout.write(json.dumps(result))
            return
        self.stdout.write(f"Created application {application.name!r} in {org.name!r}.")
        for key, value in result.items():
            self.stdout.write(f"{key}: {value}")
        self.stdout.write("The client secret is shown this once; only its hash is stored.")
