import secrets

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from portal.services import ensure_org_admin, ensure_organization


class Command(BaseCommand):
    help = "Make sure the demo organization and its admin exist; prints a new admin's login once."

    def add_arguments(self, parser):
        parser.add_argument("--organization", default="Demo Organization")
        parser.add_argument("--username", default="admin")

    def handle(self, *args, organization, username, **options):
        org, _ = ensure_organization(name_or_slug=organization)
        if get_user_model().objects.filter(username=username).exists():
            ensure_org_admin(organization=org, username=username, email="", password=None)
            self.stdout.write(
                f"Demo admin {username!r} of {org.name!r} exists; its password was printed when it was made "
                f"(set a new one with: python manage.py changepassword {username})."
            )
            return
        password = secrets.token_urlsafe(12)
        try:
            ensure_org_admin(organization=org, username=username, email="", password=password)
        except ValidationError as error:  # another user's name is the same name
            raise CommandError(" ".join(error.messages))
        self.stdout.write(
            self.style.SUCCESS(f"Demo admin of {org.name!r} — username: {username}  password: {password}")
        )
        self.stdout.write("This password is shown once.")
