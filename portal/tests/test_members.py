"""The members services: one rule for every entry point, and the last admin kept under concurrent requests."""

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.utils import timezone

from portal import services
from portal.actors import COMMAND_LINE, Actor
from portal.models import Invitation, MemberEvent, Membership
from portal.selectors import pending_invitations_for
from portal.services import change_role, create_invitation, remove_member, revoke_invitation
from portal.tests.factories import MembershipFactory
from portal.tests.helpers import at_once, hold_first_call, signed_in
from testing.databases import two_writers_at_once


def test_members_and_other_organizations_admins_may_change_nothing(
    organization, other_organization, admin_membership, member_membership
):
    outsider = MembershipFactory(organization=other_organization, role=Membership.Role.ADMIN)
    invitation, _ = create_invitation(
        organization=organization, email="a@example.com", role="member", actor=Actor.for_member(admin_membership)
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


@pytest.mark.parametrize("action", ["demote", "remove"])
def test_demoting_or_removing_an_admin_revokes_only_their_open_invitations(organization, admin_membership, action):
    leaving = MembershipFactory(organization=organization, role=Membership.Role.ADMIN)
    by_leaving, by_staying = Actor.for_member(leaving), Actor.for_member(admin_membership)
    open_ones = [
        create_invitation(organization=organization, email=f"open{n}@example.com", role="admin", actor=by_leaving)[0]
        for n in range(2)
    ]
    used, expired, revoked = (
        create_invitation(organization=organization, email=f"{name}@example.com", role="member", actor=by_leaving)[0]
        for name in ("used", "expired", "revoked")
    )
    Invitation.objects.filter(pk=used.pk).update(accepted_at=timezone.now())
    Invitation.objects.filter(pk=expired.pk).update(expires_at=timezone.now())
    revoke_invitation(invitation=revoked, actor=by_leaving)
    others, _ = create_invitation(organization=organization, email="other@example.com", role="admin", actor=by_staying)
    before = {row.pk: row.revoked_at for row in Invitation.objects.all()}
    MemberEvent.objects.all().delete()

    if action == "demote":
        change_role(membership=leaving, role="member", actor=by_staying)
    else:
        remove_member(membership=leaving, actor=by_staying)

    after = {row.pk: row.revoked_at for row in Invitation.objects.all()}
    assert {pk for pk in after if after[pk] != before[pk]} == {invitation.pk for invitation in open_ones}
    assert all(after[invitation.pk] is not None for invitation in open_ones)
    events = MemberEvent.objects.filter(action=MemberEvent.Action.INVITATION_REVOKED).order_by("subject")
    assert list(events.values_list("subject", "actor", "changes")) == [
        (email, admin_membership.user.pk, {"reason": f"its creator {leaving.user.username} is no longer an admin"})
        for email in ("open0@example.com", "open1@example.com")
    ]
    assert list(pending_invitations_for(organization)) == [others]


def test_a_refused_demotion_of_the_last_admin_revokes_nothing(organization, admin_membership):
    invitation, _ = create_invitation(
        organization=organization, email="a@example.com", role="admin", actor=Actor.for_member(admin_membership)
    )

    with pytest.raises(ValidationError, match="at least one admin"):
        change_role(membership=admin_membership, role="member", actor=Actor.for_member(admin_membership))

    invitation.refresh_from_db()
    assert invitation.revoked_at is None
    assert not MemberEvent.objects.filter(action=MemberEvent.Action.INVITATION_REVOKED).exists()


def test_the_join_itself_refuses_an_invitation_whose_creator_is_no_longer_an_admin(
    organization, other_organization, admin_membership
):
    # The link was read while its creator was an admin; the role went (here without the service, as a database
    # console would) before the join's transaction took the organization's lock.
    invitation, _ = create_invitation(
        organization=organization, email="a@example.com", role="admin", actor=Actor.for_member(admin_membership)
    )
    joiner = MembershipFactory(organization=other_organization).user
    Membership.objects.filter(pk=admin_membership.pk).update(role=Membership.Role.MEMBER)

    with pytest.raises(services.InvitationNotUsable):
        services.accept_invitation(invitation=invitation, user=joiner)

    assert not Membership.objects.filter(user=joiner, organization=organization).exists()
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


def test_only_a_signed_in_admin_creates_invitations(organization, admin_membership, make_application):
    application, _ = make_application(scopes=["read:organizations"])
    api_client = Actor(label="API client", application=application)

    for actor in (COMMAND_LINE, api_client):
        with pytest.raises(PermissionDenied):
            create_invitation(organization=organization, email="a@example.com", role="admin", actor=actor)
    assert not Invitation.objects.exists()
    assert not MemberEvent.objects.exists()


@two_writers_at_once
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("action", ["demote", "remove"])
def test_two_admins_acting_on_each_other_at_once_leave_one_admin(organization, monkeypatch, action):
    first = MembershipFactory(organization=organization, role=Membership.Role.ADMIN)
    second = MembershipFactory(organization=organization, role=Membership.Role.ADMIN)
    clients = {first.pk: signed_in(first.user), second.pk: signed_in(second.user)}
    # The first to count the admins left is held there until the other request meets it: waiting for the
    # organization's lock, or (without the lock) counting too, so that both would see another admin.
    gate = hold_first_call(monkeypatch, services, "_admins_left")

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


def test_a_change_whose_activity_record_cannot_be_written_does_not_happen(
    admin_membership, member_membership, monkeypatch
):
    from django.db import DatabaseError

    def broken(*args, **kwargs):
        raise DatabaseError("activity table unavailable")

    monkeypatch.setattr(MemberEvent.objects, "create", broken)
    with pytest.raises(DatabaseError):
        change_role(membership=member_membership, role="admin", actor=COMMAND_LINE)

    assert Membership.objects.get(pk=member_membership.pk).role == "member"


@two_writers_at_once
@pytest.mark.django_db(transaction=True)
def test_two_look_alike_usernames_signing_up_at_once_leave_one_account(organization, monkeypatch):
    admin = Actor.for_member(MembershipFactory(organization=organization, role=Membership.Role.ADMIN))
    tokens = [
        create_invitation(organization=organization, email=f"{n}@example.com", role="member", actor=admin)[1]
        for n in range(2)
    ]
    # The first to read the other names is held there until the second meets it: waiting for the lock over
    # account creation, or (without it) reading the names too, so that neither would see the other's.
    gate = hold_first_call(monkeypatch, services, "lookalike_username")

    def sign_up(token, username):
        data = {
            "username": username,
            "password1": "Violet-harbour-lantern-42",
            "password2": "Violet-harbour-lantern-42",
        }
        return lambda: Client().post(f"/invitations/{token}/", data).status_code

    codes = at_once(sign_up(tokens[0], "Straße"), sign_up(tokens[1], "STRASSE"), meanwhile=gate.overlap)

    assert sorted(codes) == [200, 302], gate.met
    assert get_user_model().objects.filter(username__in=["Straße", "STRASSE"]).count() == 1
    assert Membership.objects.filter(organization=organization).count() == 2
