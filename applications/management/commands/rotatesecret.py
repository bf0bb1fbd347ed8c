from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from applications.management import secret_output as output
from applications.models import Application
from applications.selectors import applications_for
from applications.services import DEFAULT_KEEP_CURRENT_FOR, SecretLimitReached, rotate_secret
from portal.actors import COMMAND_LINE
from portal.management.arguments import add_organization_argument


def _keep_current_for(value: str) -> int | None:
    # "forever" as the portal's choice: the current secret works until it is revoked.
    return None if value == "forever" else int(value)


class Command(BaseCommand):
    help = (
        "Generate a new client secret for an application exactly as the portal's “Generate new secret” does, "
        "and print it once. Refuses, printing no secret, when the application already has two live secrets."
    )

    def add_arguments(self, parser):
        add_organization_argument(parser)
        parser.add_argument("--application", required=True, help="The application's name or client ID.")
        parser.add_argument(
            "--keep-current-for",
            type=_keep_current_for,
            default=DEFAULT_KEEP_CURRENT_FOR,
            metavar="SECONDS",
            help="Seconds the current secret keeps working (0: it stops now; 'forever': until revoked; "
            f"default {DEFAULT_KEEP_CURRENT_FOR}).",
        )
        parser.add_argument("--expires-in-days", type=int, default=None, metavar="N", help="Days the new secret lives.")
        output.add_output_arguments(parser)

    def handle(self, *args, organization, application, keep_current_for, expires_in_days, base_url, **options):
        org = output.organization_named(organization)
        found = applications_for(org).filter(Q(name__iexact=application) | Q(client_id=application)).first()
        if found is None:
            raise CommandError(f"No application named {application!r} in {org.name!r}.")
        try:
            secret, plaintext = rotate_secret(
                application=found,
                actor=COMMAND_LINE,
                keep_current_for=keep_current_for,
                expires_in_days=expires_in_days,
            )
        except SecretLimitReached as refused:
            raise CommandError(str(refused))
        except ValidationError as error:
            raise output.refusal(error)
        except Application.DoesNotExist:
            raise CommandError(f"The application {application!r} was deleted.")
        result = {
            "client_id": found.client_id,
            "client_secret": plaintext,
            "secret_id": str(secret.public_id),
            "expires_at": secret.expires_at.isoformat() if secret.expires_at else None,
            "token_endpoint": output.token_endpoint_for(base_url),
        }
        headline = f"Generated a new client secret for {found.name!r} in {org.name!r}."
        output.print_once(self.stdout, headline=headline, result=result, as_json=options["json"])
