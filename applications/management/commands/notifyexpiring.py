from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from applications.expiry import send_expiry_notices


class Command(BaseCommand):
    help = (
        "Mail each organization's admins about each live credential that expires within 14 days: once within 14 days, "
        "once within 7, once within 1. Each notice is recorded and sent once; without EMAIL_URL they are printed "
        "(and recorded) instead. Run it hourly from cron or a systemd timer."
    )

    def handle(self, *args, **options):
        if not settings.PUBLIC_BASE_URL:
            self.stderr.write("PUBLIC_BASE_URL is not set: the notices give each application page's path, not a link.")
        sent, failed = send_expiry_notices(
            now=timezone.now(), origin=settings.PUBLIC_BASE_URL, mail=settings.NOTICE_EMAILS, show=self.stdout.write
        )
        if failed:
            self.stdout.write(
                f"{sent} notices sent, {failed} could not be mailed (they are tried again at the next run)"
            )
            raise SystemExit(1)
        self.stdout.write(f"{sent} notices sent")
