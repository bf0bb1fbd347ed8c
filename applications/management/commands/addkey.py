from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from applications.lifetimes import EXPIRES_IN_DAYS
from applications.management import secret_output as output
from applications.models import Application
from applications.services import DuplicateKey, KeyLimitReached, add_key, generate_key
from portal.actors import COMMAND_LINE
from portal.management.arguments import add_organization_argument


class Command(BaseCommand):
    help = (
        "Add a public key to an application exactly as the portal's “Add key” does (--public-key FILE: PEM or JWK), "
        "or generate an EC P-256 key pair as “Generate key pair” does and print its private key once (--generate). "
        "Refuses, changing nothing, at five live keys or for a key the application already has."
    )

    def add_arguments(self, parser):
        add_organization_argument(parser)
        parser.add_argument("--application", required=True, help="The application's name or client ID.")
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--public-key", metavar="FILE", help="A PEM public key or a JWK JSON object ('-': stdin).")
        source.add_argument("--generate", action="store_true", help="Generate a key pair; prints the private key once.")
        parser.add_argument(
            "--expires-in-days",
            type=output.expires_in_days,
            default=EXPIRES_IN_DAYS.default,
            metavar="N",
            help=f"Days the key lives (default '{EXPIRES_IN_DAYS.until_revoked}': until revoked).",
        )
        output.add_output_arguments(parser)

    def handle(self, *args, organization, application, public_key, generate, expires_in_days, base_url, **options):
        org = output.organization_named(organization)
        found = output.application_named(org, application)
        private_pem = None
        try:
            if generate:
                key, private_pem = generate_key(application=found, actor=COMMAND_LINE, expires_in_days=expires_in_days)
            else:
                key = add_key(
                    application=found,
                    actor=COMMAND_LINE,
                    public_key=self._read(public_key),
                    expires_in_days=expires_in_days,
                )
        except (KeyLimitReached, DuplicateKey) as refused:
            raise CommandError(str(refused))
        except ValidationError as error:
            raise output.refusal(error)
        except Application.DoesNotExist:
            raise CommandError(f"The application {application!r} was deleted.")
        result = {
            "client_id": found.client_id,
            "key_id": str(key.public_id),
            "kid": key.kid,
            "alg": key.alg,
            "expires_at": key.expires_at.isoformat() if key.expires_at else None,
            "token_endpoint": output.token_endpoint_for(base_url),
        }
        if private_pem is not None:
            result["private_key"] = private_pem
        if options["json"]:
            output.print_once(self.stdout, headline="", result=result, as_json=True)
            return
        self.stdout.write(f"Added key {key.kid} ({key.alg}) to {found.name!r} in {org.name!r}.")
        for name, value in result.items():
            if name != "private_key":
                self.stdout.write(f"{name}: {value}")
        if private_pem is not None:
            self.stdout.write(private_pem, ending="")
            self.stdout.write("The private key is shown this once; only the public key is stored.")

    def _read(self, path: str) -> str:
        try:
            if path == "-":
                import sys

                return sys.stdin.read()
            return Path(path).read_text()
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"Cannot read {path!r}: {error.strerror if isinstance(error, OSError) else 'not text'}.")
