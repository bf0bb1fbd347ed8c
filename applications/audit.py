from applications.models import Application, AuditEvent
from portal.activity import record_activity
from portal.actors import Actor


def record_event(*, application: Application, action: str, actor: Actor, changes: dict | None = None) -> None:
    """Write one audit record, in the transaction of the action it records."""
    record_activity(
        AuditEvent,
        actor=actor,
        action=action,
        changes=changes,
        organization_id=application.organization_id,
        application=application if application.pk else None,
        application_public_id=application.public_id,
        application_name=application.name,
    )
