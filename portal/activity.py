"""Writing the Activity page's records, of every kind (members' MemberEvents, applications' AuditEvents)."""

from portal.actors import Actor


def record_activity(model, *, actor: Actor, action: str, changes: dict | None = None, **fields) -> None:
    """Write one record of `model` (an ActivityEvent) of `action` by `actor`, with the model's own `fields`.

    In the caller's transaction: an action whose record cannot be written does not happen either.
    """
    model.objects.create(
        action=action,
        actor=actor.user,
        actor_label=actor.label[:255],
        address=actor.address,
        changes=changes or {},
        **fields,
    )
