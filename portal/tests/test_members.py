"""The members services: one rule for every entry point, and the last admin kept under concurrent requests."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from portal import members
from portal.actors import COMMAND_LINE, Actor
from portal.members import change_role, create_invitation, remove_member, revoke_invitation
from portal.models import Invitation, MemberEvent, Membership
from portal.tests.factories import MembershipFactory
from portal.tests.helpers import at_once, hold_first_call, signed_in


def test_members_and_other_organizations_admins_may_change_nothing(
    organization, other_organization, admin_membership, member_membership
):
    outsider = MembershipFactory(organization=other_organization, role=Membership.Role.ADMIN)
    invitation, _ = create_invitation(
        organization=organization, email="a@example.com", role="member", actor=COMMAND_LINE
    )

    for actor in (Actor.for_member(member_membership), Actor.for_member(outsider), Actor.server("token endpoint")):
        with pytest.raises(PermissionDenied):
            change_role(membership=admin_membership, role="member", actor=actor)
        with pytest.raises(PermissionDenied):
            remove_member(membership=admin_membership, actor=actor)
        with pytest.raises(PermissionDenied):
            revoke_invitation(invitation=invitation, actor=actor)
        with pytest.raises(PermissionDenied):
            create_invitation(organization=organization, email="b@example.com", role="admin", actor=actor)
    assert Membership.objects.filter(pk=admin_membership.pk, role="admin").exists()
    assert Invitation.objects.get().revoked_at is None


def test_the_command_line_keeps_the_last_admin_too(admin_membership):
    with pytest.raises(ValidationError, match="at least one admin"):
        change_role(membership=admin_membership, role="member", actor=COMMAND_LINE)
    with pytest.raises(ValidationError, match="at least one admin"):
        remove_member(membership=admin_membership, actor=COMMAND_LINE)

    assert Membership.objects.get(pk=admin_membership.pk).role == "admin"


def test_an_admin_demoted_since_the_request_began_may_no_longer_act(admin_membership, member_membership, organization):
    MembershipFactory(organization=organization, role=Membership.Role.ADMIN)
    stale = Actor.for_member(admin_membership)
    Membership.objects.filter(pk=admin_membership.pk).update(role="member")

    with pytest.raises(PermissionDenied):
        remove_member(membership=member_membership, actor=stale)
    assert Membership.objects.filter(pk=member_membership.pk).exists()


def test_a_plain_member_removed_leaves_a_record_and_the_admins(admin_membership, member_membership):
    remove_member(membership=member_membership, actor=Actor.for_member(admin_membership, "192.0.2.1"))

    event = MemberEvent.objects.get()
    assert (event.action, event.subject, event.actor, event.address) == (
        "removed",
        member_membership.user.username,
        admin_membership.user,
        "192.0.2.1",
    )


@pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="the suite's in-memory SQLite database is shared-cache: a second writer fails with 'table is locked' "
    "instead of waiting, so only PostgreSQL can run two requests at once here (on a SQLite file, IMMEDIATE "
    "transactions queue writers)",
)
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("action", ["demote", "remove"])
def test_two_admins_acting_on_each_other_at_once_leave_one_admin(organization, monkeypatch, action):
    first = MembershipFactory(organization=organization, role=Membership.Role.ADMIN)
    second = MembershipFactory(organization=organization, role=Membership.Role.ADMIN)
    clients = {first.pk: signed_in(first.user), second.pk: signed_in(second.user)}
    # The first to count the admins left is held there until the other request meets it: waiting for the
    # organization's lock, or (without the lock) counting too, so that both would see another admin.
    gate = hold_first_call(monkeypatch, members, "_admins_left")

    def act(actor, target):
        client = clients[actor.pk]
        if action == "demote":
            return client.post(f"/organization/members/{target.public_id}/role/", {"role": "member"})
        return client.post(f"/organization/members/{target.public_id}/remove/")

    responses = at_once(lambda: act(first, second), lambda: act(second, first), meanwhile=gate.overlap)

    admins = Membership.objects.filter(organization=organization, role=Membership.Role.ADMIN)
    assert admins.count() == 1, gate.met
    # The second to get the lock finds itself demoted or removed already: no longer an admin, it may not act.
    assert sorted(response.status_code for response in responses) == [302, 403]
    assert MemberEvent.objects.count() == 1


def test_a_failing_activity_write_does_not_fail_the_change(admin_membership, member_membership, monkeypatch, caplog):
    from django.db import DatabaseError

    def broken(*args, **kwargs):
        raise DatabaseError("activity table unavailable")

    monkeypatch.setattr(MemberEvent.objects, "create", broken)
    change_role(membership=member_membership, role="admin", actor=COMMAND_LINE)

    assert Membership.objects.get(pk=member_membership.pk).role == "admin"
    assert f"Could not record the role_changed of {member_membership.user.username}" in caplog.text
