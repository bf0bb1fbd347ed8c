import pytest

from applications.models import AuditEvent
from applications.selectors import audit_events_for, audit_events_for_application
from applications.services import create_application, delete_application, update_application
from applications.tests.oauth_helpers import request_token
from portal.actors import COMMAND_LINE, Actor


def test_create_update_delete_are_recorded_with_who_when_and_where(organization, admin_membership):
    actor = Actor.for_member(admin_membership, address="192.0.2.7")
    application, _ = create_application(
        organization=organization, name="Sync", scopes=["read:credentials"], actor=actor
    )
    update_application(application=application, name="Sync 2", description="d", actor=actor)
    public_id = application.public_id
    delete_application(application=application, actor=actor)

    deleted, updated, created = audit_events_for(organization)
    assert [created.action, updated.action, deleted.action] == ["created", "updated", "deleted"]
    assert updated.changes == {"name": ["Sync", "Sync 2"], "description": ["", "d"]}
    assert created.changes == {"scopes": [None, "read:credentials"]}
    for event in (created, updated, deleted):
        assert event.actor == admin_membership.user
        assert event.address == "192.0.2.7"
        assert event.application_public_id == public_id
        assert event.application is None  # the application is gone, its record is not
    assert deleted.application_name == "Sync 2"


def test_without_an_actor_the_acting_user_is_named(make_application, admin_membership):
    application, _ = make_application(actor=Actor.for_member(admin_membership))

    update_application(application=application, actor=Actor.for_member(admin_membership), description="x")

    assert {event.actor_label for event in audit_events_for_application(application)} == {
        admin_membership.user.username
    }


def test_the_command_line_is_named_when_nobody_signed_in_acts(make_application):
    application, _ = make_application()

    assert audit_events_for_application(application).get().actor_label == "command line"


def test_an_update_that_changes_nothing_records_nothing(make_application):
    application, _ = make_application(name="Same")

    update_application(application=application, name="Same", actor=COMMAND_LINE)

    assert audit_events_for_application(application).count() == 1


def test_an_action_whose_audit_record_cannot_be_written_does_not_happen(make_application, monkeypatch):
    from django.db import DatabaseError

    application, _ = make_application()

    def broken(*args, **kwargs):
        raise DatabaseError("audit table unavailable")

    monkeypatch.setattr(AuditEvent.objects, "create", broken)
    with pytest.raises(DatabaseError):
        update_application(application=application, description="never saved", actor=COMMAND_LINE)

    application.refresh_from_db()
    assert application.description == ""


def test_a_token_endpoint_lockout_is_recorded(client, make_application, settings):
    settings.FAILURE_LIMITS = {**settings.FAILURE_LIMITS, "TOKEN_PER_CLIENT_ADDRESS": (2, 300)}
    application, _ = make_application()

    for _ in range(3):
        request_token(client, application, "wrong")

    lockouts = AuditEvent.objects.filter(action=AuditEvent.Action.LOCKED_OUT)
    assert lockouts.count() == 1
    assert lockouts.get().actor_label == "token endpoint"
    assert lockouts.get().address == "127.0.0.1"
