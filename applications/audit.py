import logging

from django.db import DatabaseError, transaction

from applications.models import Application, AuditEvent
from portal.actors import Actor

logger = logging.getLogger(__name__)


def record_event(*, application: Application, action: str, actor: Actor, changes: dict | None = None) -> None:
    """Write one audit record; a failure here is logged and never fails the action it records."""
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
