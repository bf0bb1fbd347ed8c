"""Credentials found in public (contract §12): a reported live `ipcs_` secret or `ipat_` token is revoked at once,
recorded in its organization's Activity, and the organization's admins are mailed. Whose report it is and how it
is signed is the reporter's module's business (secret_scanning.py for GitHub's)."""

import logging
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.core.mail import EmailMessage, get_connection
from django.urls import reverse
from django.views.decorators.debug import sensitive_variables

from applications.identifiers import ACCESS_TOKEN_PREFIX, CLIENT_SECRET_PREFIX, is_well_formed
from applications.models import Application, ClientSecret
from applications.oauth.reads import active_access_token, secrets_with_lookup_keys, token_checksum
from applications.services import revoke_leaked_secret, revoke_leaked_token
from portal.actors import Actor
from portal.selectors import admin_emails

logger = logging.getLogger(__name__)

# A report's url is kept for the page, the Activity record and the mail; a longer one is cut (the revocation counts).
URL_MAX_LENGTH = 2048


@dataclass(frozen=True)
class Revoked:
    """What one report revoked, for the admins' mail: the application and how the credential is named, never it."""

    application: Application
    credential: str
    url: str


@sensitive_variables()
def revoke_reported(*, token: str, url: str, actor: Actor) -> Revoked | None:
    """Revoke `token` when it is a live client secret or access token of any organization, in one transaction.

    None for anything else (unknown, malformed, revoked or expired already): nothing changes then. Only a value
    with the prefix and checksum of our format costs a query, and that query is one indexed look-up.
    """
    url = url[:URL_MAX_LENGTH]
    if is_well_formed(token, CLIENT_SECRET_PREFIX):
        secret = _secret_with_value(token)
        if secret is not None and secret.is_live() and revoke_leaked_secret(secret=secret, url=url, actor=actor):
            return Revoked(secret.application, f"client secret …{secret.hint}", url)
    elif is_well_formed(token, ACCESS_TOKEN_PREFIX):
        # Unexpired, by the SHA-256 checksum the toolkit keeps under a unique index: as the API's bearer check reads it.
        access_token = active_access_token(token)
        if access_token is not None and revoke_leaked_token(access_token=access_token, url=url, actor=actor):
            return Revoked(access_token.application, "an access token", url)
    return None


@sensitive_variables()
def _secret_with_value(value: str) -> ClientSecret | None:
    # Its SHA-256, or the hint of a secret issued before those were kept: one query on one index (see lookup_key).
    candidates = secrets_with_lookup_keys(token_checksum(value), f"hint:{value[-4:]}")
    return next((secret for secret in candidates if check_password(value, secret.secret_hash)), None)


def mail_revoked(revoked: list[Revoked], *, origin: str, reporter: str) -> None:
    """With EMAIL_URL set, one mail to each admin of each organization that had credentials revoked; a mail that
    cannot be sent is logged and never undoes the revocation."""
    if not settings.NOTICE_EMAILS or not revoked:
        return
    by_organization: dict[int, list[Revoked]] = {}
    for item in revoked:
        by_organization.setdefault(item.application.organization_id, []).append(item)
    messages = []
    for items in by_organization.values():
        organization = items[0].application.organization
        subject, body = _leak_mail(organization, items, origin=origin, reporter=reporter)
        messages += [EmailMessage(subject, body, None, [email]) for email in admin_emails(organization)]
    try:
        get_connection().send_messages(messages)
    except Exception as error:
        logger.warning("Could not mail the admins about %d revoked credentials: %s", len(revoked), type(error).__name__)


def _leak_mail(organization, items: list[Revoked], *, origin: str, reporter: str) -> tuple[str, str]:
    if len(items) == 1:
        subject = f"Leaked {items[0].credential.removeprefix('an ')} of “{items[0].application.name}” revoked"
    else:
        subject = f"{len(items)} leaked credentials of {organization.name} revoked"
    lines = [
        f"{reporter} found credentials of {organization.name} in public, and the Integrations Portal revoked them "
        "at once: nobody can use them any more.",
        "",
    ]
    for item in items:
        where = f"found at {item.url}" if item.url else "where it was found was not said"
        lines += [f"- {item.credential} of the application “{item.application.name}”, {where}"]
        lines += [f"  {origin}{reverse('applications:detail', args=[item.application.public_id])}"]
    lines += [
        "",
        "An integration that used a revoked client secret can get no tokens until it has a new one: generate a new "
        "secret on the application's page and deploy it. Then remove the leaked value from where it was found, and "
        "from that place's history.",
    ]
    return subject, "\n".join(lines) + "\n"
