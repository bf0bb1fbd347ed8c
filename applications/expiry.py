"""Expiry notices (contract §12): each organization's admins are told about each live credential that expires within
14 days, once when it first falls within 14 days, once within 7 and once within 1; `manage.py notifyexpiring`
sends them, and each is recorded (ExpiryNotice) so it is sent once."""

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.urls import reverse

from applications.models import ExpiryNotice
from applications.selectors import live_keys_query, live_secrets_query
from portal.selectors import admin_emails

logger = logging.getLogger(__name__)

THRESHOLD_DAYS = (1, 7, 14)


@dataclass(frozen=True)
class Source:
    """One kind of credential that expires: `kind` as ExpiryNotice records it, `label` and `name` as a notice says
    it, and `expiring(now, until)` its live ones that expire by `until`, each with a `public_id`, an `expires_at`
    and its `application` (with the organization)."""

    kind: str
    label: str
    expiring: Callable[[datetime, datetime], QuerySet]
    name: Callable[[object], str]


SOURCES = [
    Source(
        kind="secret",
        label="client secret",
        expiring=lambda now, until: (
            live_secrets_query(now).filter(expires_at__lte=until).select_related("application__organization")
        ),
        name=lambda secret: f"…{secret.hint}" if secret.hint else f"issued {secret.created_at:%-d %b %Y}",
    ),
    Source(
        kind="key",
        label="public key",
        expiring=lambda now, until: (
            live_keys_query(now).filter(expires_at__lte=until).select_related("application__organization")
        ),
        name=lambda key: key.kid,
    ),
]


@dataclass(frozen=True)
class Notice:
    source: Source
    credential: object
    threshold_days: int

    @property
    def application(self):
        return self.credential.application

    def text(self, *, now: datetime, origin: str) -> tuple[str, str]:
        """The mail's subject and plain-text body; `origin` empty gives the page's path without one."""
        what = f"{self.source.label} {self.source.name(self.credential)}"
        expires = self.credential.expires_at
        left = expires - now
        days = math.floor(left / timedelta(days=1))
        when = "in less than a day" if days < 1 else f"in {days} day{'s' if days > 1 else ''}"
        page = origin + reverse("applications:detail", args=[self.application.public_id])
        subject = f"{what[0].upper()}{what[1:]} of “{self.application.name}” expires {when}"
        body = (
            f"The {what} of the application “{self.application.name}” ({self.application.organization.name}) "
            f"expires on {expires:%-d %b %Y at %H:%M} UTC, {when}.\n\n"
            "Once it has expired, an integration that still uses it can get no access tokens. Generate a new one on "
            "the application's page, put it in every deployment, and revoke the old one once its “Last used” stops "
            f"moving:\n\n{page}\n\n"
            "The admins of the organization are told 14 days, 7 days and 1 day before a credential expires.\n"
        )
        return subject, body


def due_notices(now: datetime) -> list[Notice]:
    """For each live credential that expires within the largest threshold, the notice of the smallest threshold
    it has reached, unless that one was sent."""
    due = []
    for source in SOURCES:
        credentials = list(source.expiring(now, now + timedelta(days=max(THRESHOLD_DAYS))))
        ids = [credential.public_id for credential in credentials]
        sent = set(
            ExpiryNotice.objects.filter(kind=source.kind, credential__in=ids).values_list(
                "credential", "threshold_days"
            )
        )
        for credential in credentials:
            left = credential.expires_at - now
            threshold = min(days for days in THRESHOLD_DAYS if left <= timedelta(days=days))
            if (credential.public_id, threshold) not in sent:
                due.append(Notice(source, credential, threshold))
    return due


def send_expiry_notices(*, now: datetime, origin: str, mail: bool, show: Callable[[str], None]) -> tuple[int, int]:
    """Send every due notice to its organization's admins (with `mail`; otherwise, or when no admin has an address,
    `show` each), recording each first so that no run sends it twice. Returns (sent, not mailed): a notice that
    could not be mailed is not recorded, and is sent again at the next run."""
    sent = failed = 0
    addresses: dict[int, list[str]] = {}
    connection = get_connection()
    for notice in due_notices(now):
        try:
            with transaction.atomic():
                record = ExpiryNotice.objects.create(
                    kind=notice.source.kind,
                    credential=notice.credential.public_id,
                    threshold_days=notice.threshold_days,
                    sent_at=now,
                )
        except IntegrityError:
            continue  # a run elsewhere sent it meanwhile
        organization = notice.application.organization
        if organization.pk not in addresses:
            addresses[organization.pk] = admin_emails(organization)
        recipients = addresses[organization.pk]
        subject, body = notice.text(now=now, origin=origin)
        if mail and recipients:
            try:
                connection.send_messages([EmailMessage(subject, body, None, [address]) for address in recipients])
            except Exception as error:
                logger.warning("Could not mail the notice %s: %s", record, type(error).__name__)
                record.delete()
                failed += 1
                continue
        else:
            to = ", ".join(recipients) or f"(no admin of {organization.name} has an email address)"
            show(f"To: {to}\nSubject: {subject}\n\n{body}")
        sent += 1
    return sent, failed
