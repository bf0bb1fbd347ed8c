import logging
from dataclasses import dataclass

from django.db import DatabaseError, transaction

from applications.models import Application, AuditEvent

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Actor:
    """Who acts, for the audit trail: a signed-in user, an API client or the command line."""

    label: str
    user: object = None
    address: str | None = None

    @classmethod
    def from_request(cls, request) -> "Actor":
        user = request.user if request.user.is_authenticated else None
        return cls(label=user.get_username() if user else "anonymous", user=user, address=client_address(request))


COMMAND_LINE = Actor(label="command line")


def client_address(request) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def record_event(*, application: Application, action: str, actor: Actor | None, changes: dict | None = None) -> None:
    """Write one audit record; a failure here is logged and never fails the action it records."""
    actor = actor or COMMAND_LINE
    try:
        with transaction.atomic():
            AuditEvent.objects.create(
                organization_id=application.organization_id,
                application=application if application.pk else None,
                application_public_id=application.public_id,
                application_name=application.name,
                action=action,
                actor=actor.user,
                actor_label=actor.label[:255],
                address=actor.address,
                changes=changes or {},
            )
    except DatabaseError:
        logger.exception("Could not record the %s of application %s", action, application.public_id)
