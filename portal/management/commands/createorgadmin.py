from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from portal.management.arguments import add_organization_argument
from portal.services import ensure_org_admin, ensure_organization


class Command(BaseCommand):
    help = "Create (or update) an organization, a user and the user's admin membership in it. Safe to run twice."

    def add_arguments(self, parser):
        add_organization_argument(parser)
        parser.add_argument("--username", required=True)
        parser.add_argument("--email", default="")
        parser.add_argument("--password", required=True)

    def handle(self, *args, organization, username, email, password, **options):
        try:
            validate_password(password)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages))
        try:
            with transaction.atomic():
                org, org_created = ensure_organization(name_or_slug=organization)
                user, user_created = ensure_org_admin(
                    organization=org, username=username, email=email, password=password
                )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages))
        self.stdout.write(
            f"{'Created' if org_created else 'Found'} organization {org.name!r} ({org.slug}); "
            f"{'created' if user_created else 'updated'} user {user.username!r} as its admin."
        )
