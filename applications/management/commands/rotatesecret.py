from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from applications.lifetimes import EXPIRES_IN_DAYS, KEEP_CURRENT_FOR
from applications.management import secret_output as output
from applications.models import Application
from applications.services import SecretLimitReached, rotate_secret
from portal.actors import COMMAND_LINE
from portal.management.arguments import add_organization_argument


# Spelled as in the portal's form. Named for argparse's error: "invalid keep_current_for value: 'x'".
def keep_current_for(value: str) -> int | None:
    return KEEP_CURRENT_FOR.parse(value)


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
            type=keep_current_for,
            default=KEEP_CURRENT_FOR.default,
            metavar="SECONDS",
            help=f"Seconds the current secret keeps working (0: it stops now; '{KEEP_CURRENT_FOR.until_revoked}': "
            f"until revoked; default {KEEP_CURRENT_FOR.default}).",
        )
        parser.add_argument(
            "--expires-in-days",
            type=output.expires_in_days,
            default=EXPIRES_IN_DAYS.default,
            metavar="N",
            help=f"Days the new secret lives (default '{EXPIRES_IN_DAYS.until_revoked}': until revoked).",
        )
        output.add_output_arguments(parser)

    def handle(self, *args, organization, application, keep_current_for, expires_in_days, base_url, **options):
        org = output.organization_named(organization)
        found = output.application_named(org, application)
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
