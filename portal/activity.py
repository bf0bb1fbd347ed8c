"""Writing the Activity page's records, of every kind (members' MemberEvents, applications' AuditEvents)."""

import logging

from django.db import DatabaseError, transaction

from portal.actors import Actor

logger = logging.getLogger(__name__)


def record_activity(model, *, actor: Actor, action: str, of: str, changes: dict | None = None, **fields) -> None:
    """Write one record of `model` (an ActivityEvent) of `action` on `of`, by `actor`, with the model's own `fields`.

    In a savepoint, and a failure is logged: the record never fails the action it records.
    """
    try:
        with transaction.atomic():
            model.objects.create(
                action=action,
                actor=actor.user,
                actor_label=actor.label[:255],
                address=actor.address,
                changes=changes or {},
                **fields,
            )
    except DatabaseError:
        logger.exception("Could not record the %s of %s", action, of)
