"""The members page, invitations, role changes and removal, through real HTTP requests (contract §9)."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.utils import timezone

from applications.models import Application
from portal.actors import Actor
from portal.models import Invitation, MemberEvent, Membership
from portal.tests.factories import PASSWORD, MembershipFactory
from portal.tests.helpers import form_token_of, invitation_link_of, signed_in
from testing.server import free_port

User = get_user_model()
MEMBERS = "/organization/members/"
INVITE = "/organization/members/invite/"
STRONG = "Violet-harbour-lantern-42"


def invitation_path(token: str) -> str:
    return f"/invitations/{token}/"


def snapshot():
    """What a refused request must leave exactly as it was."""
    return (
        sorted(Membership.objects.values_list("user_id", "organization_id", "role")),
        sorted(Invitation.objects.values_list("pk", "accepted_at", "revoked_at")),
        User.objects.count(),
    )


def create_account(client, token, username="newcomer", password=STRONG, password2=None, **extra):
    data = {"username": username, "password1": password, "password2": password2 or password}
    return client.post(invitation_path(token), data, **extra)


# --- The members page ------------------------------------------------------------------------------------------------


def test_the_members_page_lists_username_email_role_and_joined(admin_portal_client, admin_user, member_membership):
    response = admin_portal_client.get(MEMBERS)

    page = response.content.decode()
    assert response.status_code == 200
    for membership in (admin_user.memberships.get(), member_membership):
        assert membership.user.username in page
        assert membership.user.email in page
        assert f'datetime="{membership.created_at:%Y-%m-%dT%H:%M:%S}' in page
    assert "Admin" in page and "Member" in page


def test_admins_see_the_controls(admin_portal_client, member_membership, invite):
    invite(email="pending@example.com")

    page = admin_portal_client.get(MEMBERS).content.decode()

    assert "Invite member" in page
    assert f"/organization/members/{member_membership.public_id}/role/" in page
    assert f"/organization/members/{member_membership.public_id}/remove/" in page
    assert "pending@example.com" in page and "Revoke" in page


def test_members_see_no_controls_and_no_invitations(member_client, admin_membership, invite):
    invite(email="pending@example.com")

    page = member_client.get(MEMBERS).content.decode()

    assert admin_membership.user.username in page
    assert "Invite member" not in page
    assert "/role/" not in page and "/remove/" not in page and "Revoke" not in page
    assert "pending@example.com" not in page


def test_the_navigation_links_the_members_page_for_every_member(member_client):
    page = member_client.get("/integrations/applications/").content.decode()

    assert 'href="/organization/members/"' in page
    assert 'href="/accounts/password/"' in page
    current = member_client.get(MEMBERS).content.decode()
    assert 'href="/organization/members/" class="active" aria-current="page"' in current


def test_the_members_page_needs_a_signed_in_member(client, db):
    assert client.get(MEMBERS).status_code == 302


def test_another_organizations_members_are_not_listed(admin_portal_client, other_organization):
    outsider = MembershipFactory(organization=other_organization)

    assert outsider.user.username not in admin_portal_client.get(MEMBERS).content.decode()


def test_the_members_page_costs_the_same_queries_for_more_members(
    admin_portal_client, organization, invite, django_assert_max_num_queries
):
    for n in range(5):
        MembershipFactory(organization=organization, role=Membership.Role.MEMBER)
        invite(email=f"p{n}@example.com")

    with django_assert_max_num_queries(8):
        assert admin_portal_client.get(MEMBERS).status_code == 200


# --- Creating an invitation ----------------------------------------------------------------------------------------


def post_invitation(client, email="new@example.com", role="member", form_token=None):
    form_token = form_token or form_token_of(client.get(INVITE).content.decode())
    return client.post(INVITE, {"email": email, "role": role, "form_token": form_token})


def test_an_invitation_answers_200_with_the_link_once_and_stores_only_its_hash(admin_portal_client, organization):
    response = post_invitation(admin_portal_client, email="New@Example.com", role="admin")

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    link = invitation_link_of(response.content.decode())
    token = link.rsplit("/", 2)[1]
    assert link == f"http://testserver/invitations/{token}/"
    assert len(token) >= 43
    invitation = Invitation.objects.get()
    assert (invitation.organization, invitation.email, invitation.role) == (organization, "New@example.com", "admin")
    assert invitation.token_hash == Invitation.hash_token(token) != token
    assert abs(invitation.expires_at - (timezone.now() + timedelta(days=7))) < timedelta(minutes=1)
    assert "The link was not mailed" in response.content.decode()
    assert 'data-copy="invitation-link"' in response.content.decode()
    assert mail.outbox == []


def test_sending_the_same_form_again_creates_nothing_and_shows_no_link(admin_portal_client):
    form_token = form_token_of(admin_portal_client.get(INVITE).content.decode())
    first = post_invitation(admin_portal_client, form_token=form_token)

    again = post_invitation(admin_portal_client, form_token=form_token)

    assert again.status_code == 200
    assert "This form was already submitted" in again.content.decode()
    assert 'data-testid="invitation-link"' not in again.content.decode()
    assert invitation_link_of(first.content.decode()) not in again.content.decode()
    assert Invitation.objects.count() == 1


def test_with_email_url_set_the_link_is_also_mailed(admin_portal_client, settings):
    settings.INVITATION_EMAILS = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

    response = post_invitation(admin_portal_client, email="new@example.com")

    link = invitation_link_of(response.content.decode())
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["new@example.com"]
    assert link in mail.outbox[0].body
    assert "Acme Corp" in mail.outbox[0].subject
    assert "The link was also mailed to new@example.com" in response.content.decode()


def test_a_mail_server_that_fails_loses_no_link(admin_portal_client, settings):
    settings.INVITATION_EMAILS = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nothing listens there

    response = post_invitation(admin_portal_client)

    assert response.status_code == 200
    assert invitation_link_of(response.content.decode())
    assert "could not be mailed to new@example.com" in response.content.decode()
    assert Invitation.objects.count() == 1


def test_an_invitation_for_an_existing_members_email_is_refused(admin_portal_client, member_membership):
    email = member_membership.user.email.upper()

    response = post_invitation(admin_portal_client, email=email)

    assert response.status_code == 200
    assert "already belongs to a member of Acme Corp" in response.content.decode()
    assert 'data-testid="invitation-link"' not in response.content.decode()
    assert not Invitation.objects.exists()


@pytest.mark.parametrize(
    "data, error",
    [
        ({"email": "not-an-email", "role": "member"}, "Enter a valid email address."),
        ({"email": "", "role": "member"}, "Enter an email address."),
        ({"email": "a@example.com", "role": "owner"}, "Choose Admin or Member."),
        ({"email": "a@example.com"}, "Choose Admin or Member."),
    ],
)
def test_a_bad_invitation_form_is_refused_with_its_error(admin_portal_client, data, error):
    response = admin_portal_client.post(INVITE, {**data, "form_token": "f" * 43})

    assert response.status_code == 200
    assert error in response.content.decode()
    assert not Invitation.objects.exists()


def test_a_new_invitation_for_the_same_email_replaces_the_pending_one(admin_portal_client, invite):
    earlier, earlier_token = invite(email="new@example.com")

    post_invitation(admin_portal_client, email="new@example.com")

    earlier.refresh_from_db()
    assert earlier.revoked_at is not None
    assert admin_portal_client.get(invitation_path(earlier_token)).status_code == 404


# --- Opening the link ------------------------------------------------------------------------------------------------


def test_a_new_person_creates_an_account_and_joins_with_the_invited_role(client, invite, organization):
    invitation, token = invite(email="newcomer@example.com", role=Membership.Role.ADMIN)

    page = client.get(invitation_path(token))
    assert page.status_code == 200
    assert "Join Acme Corp" in page.content.decode()
    assert f'href="/accounts/login/?next=/invitations/{token}/"' in page.content.decode()
    assert "no-store" in page["Cache-Control"]
    assert page["Referrer-Policy"] == "same-origin"

    response = create_account(client, token, REMOTE_ADDR="192.0.2.7")

    assert response.status_code == 302
    user = User.objects.get(username="newcomer")
    assert user.email == "newcomer@example.com"
    assert user.check_password(STRONG)
    assert Membership.objects.get(user=user).organization == organization
    assert Membership.objects.get(user=user).role == Membership.Role.ADMIN
    assert int(client.session["_auth_user_id"]) == user.pk
    invitation.refresh_from_db()
    assert invitation.accepted_by == user and invitation.accepted_at is not None
    landing = client.get(response["Location"])
    assert "Welcome to Acme Corp: you joined as admin." in landing.content.decode()
    event = MemberEvent.objects.get(action=MemberEvent.Action.JOINED)
    assert (event.subject, event.actor, event.address) == ("newcomer", user, "192.0.2.7")


@pytest.mark.parametrize(
    "password, password2, message",
    [
        ("short1", None, "This password is too short. It must contain at least 8 characters."),
        ("password123", None, "This password is too common."),
        ("8491023375412", None, "This password is entirely numeric."),
        ("newcomer-x", None, "The password is too similar to the username."),
        (STRONG, STRONG + "x", "The two password fields didn’t match."),
    ],
)
def test_a_refused_password_shows_the_validators_message_and_leaves_the_link_unused(
    client, invite, password, password2, message
):
    _, token = invite(email="newcomer@example.com")
    before = snapshot()

    response = create_account(client, token, password=password, password2=password2)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert snapshot() == before
    assert create_account(client, token).status_code == 302


def test_a_password_like_the_invited_email_is_refused(client, invite):
    _, token = invite(email="lanternharbour@example.com")

    response = create_account(client, token, username="someone", password="lanternharbour")

    assert "The password is too similar to the email address." in response.content.decode()
    assert not User.objects.filter(username="someone").exists()


def test_a_taken_username_is_refused_and_the_link_stays_usable(client, invite, member_membership):
    _, token = invite()

    response = create_account(client, token, username=member_membership.user.username)

    assert response.status_code == 200
    assert "A user with that username already exists." in response.content.decode()
    assert Invitation.objects.get().accepted_at is None


@pytest.mark.parametrize(
    "existing, look_alike",
    [("alice", "ＡＬＩＣＥ"), ("straße", "STRASSE"), ("émile", "ÉMILE"), ("ﬁona", "FIONA"), ("Σίσυφος", "σίσυφοσ")],
)
def test_a_look_alike_username_is_refused_and_the_link_stays_usable(client, invite, existing, look_alike):
    MembershipFactory(user__username=existing)
    _, token = invite()
    before = snapshot()

    response = create_account(client, token, username=look_alike)

    assert response.status_code == 200
    assert "A user with that username already exists." in response.content.decode()
    assert snapshot() == before
    assert create_account(client, token, username="someone-else").status_code == 302


def test_a_used_link_answers_404_and_changes_nothing(client, invite):
    _, token = invite()
    assert create_account(client, token).status_code == 302
    other = signed_in(MembershipFactory().user)
    before = snapshot()

    assert other.get(invitation_path(token)).status_code == 404
    assert other.post(invitation_path(token)).status_code == 404
    assert create_account(client.__class__(), token, username="second").status_code == 404
    assert snapshot() == before


def test_a_revoked_link_answers_404_and_changes_nothing(client, admin_portal_client, invite, organization):
    invitation, token = invite()

    response = admin_portal_client.post(f"/organization/members/invitations/{invitation.public_id}/revoke/")

    assert response.status_code == 302
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    before = snapshot()
    assert client.get(invitation_path(token)).status_code == 404
    assert create_account(client, token).status_code == 404
    assert snapshot() == before
    assert "was revoked" in admin_portal_client.get(MEMBERS).content.decode()
    assert "new@example.com" not in admin_portal_client.get(MEMBERS).content.decode()


def test_an_expired_link_answers_404_and_changes_nothing(client, invite, monkeypatch):
    _, token = invite()
    real_now = timezone.now
    monkeypatch.setattr(timezone, "now", lambda: real_now() + timedelta(days=6, hours=23))
    assert client.get(invitation_path(token)).status_code == 200

    monkeypatch.setattr(timezone, "now", lambda: real_now() + timedelta(days=7, seconds=1))
    before = snapshot()

    assert client.get(invitation_path(token)).status_code == 404
    assert create_account(client, token).status_code == 404
    assert snapshot() == before


@pytest.mark.parametrize("token", ["unknown-token-" + "x" * 30, "x", "%E2%80%A6"])
def test_an_unknown_link_answers_404_and_changes_nothing(client, invite, token):
    invite()
    before = snapshot()

    response = client.get(invitation_path(token))

    assert response.status_code == 404
    assert "This invitation link does not work" in response.content.decode()
    assert create_account(client, token).status_code == 404
    assert snapshot() == before


def test_a_signed_in_user_joins_with_one_click_whatever_their_email(invite, other_organization, organization):
    elsewhere = MembershipFactory(organization=other_organization, user__email="someone@else.example")
    client = signed_in(elsewhere.user)
    _, token = invite(email="invited@example.com")

    page = client.get(invitation_path(token)).content.decode()
    assert "Join Acme Corp" in page and "password1" not in page
    response = client.post(invitation_path(token), REMOTE_ADDR="192.0.2.8")

    assert response.status_code == 302
    assert Membership.objects.get(user=elsewhere.user, organization=organization).role == Membership.Role.MEMBER
    assert client.session["organization_id"] == organization.pk
    assert client.get(MEMBERS).content.decode().count("someone@else.example") == 1
    elsewhere.user.refresh_from_db()
    assert elsewhere.user.email == "someone@else.example"


def test_a_user_already_in_the_organization_is_told_so_and_nothing_changes(member_client, member_membership, invite):
    _, token = invite(role=Membership.Role.ADMIN)
    before = snapshot()

    page = member_client.get(invitation_path(token))
    joined = member_client.post(invitation_path(token))

    assert page.status_code == joined.status_code == 200
    assert "You are already a member of Acme Corp" in joined.content.decode()
    assert snapshot() == before
    member_membership.refresh_from_db()
    assert member_membership.role == Membership.Role.MEMBER


def test_signing_in_first_returns_to_the_invitation(client, invite, other_organization):
    existing = MembershipFactory(organization=other_organization).user
    _, token = invite()

    response = client.post(
        f"/accounts/login/?next={invitation_path(token)}",
        {"username": existing.username, "password": PASSWORD, "next": invitation_path(token)},
    )

    assert response.status_code == 302
    assert response["Location"] == invitation_path(token)


# --- An invitation works only while its creator is an admin ----------------------------------------------------------


@pytest.fixture
def second_admin(organization):
    """Another admin of the organization, who demotes or removes the first."""
    membership = MembershipFactory(organization=organization, role=Membership.Role.ADMIN)
    return membership, signed_in(membership.user)


def own_admin_invitation(admin_portal_client) -> str:
    """The token of an admin invitation the signed-in admin creates through the page."""
    created = post_invitation(admin_portal_client, email="spare@example.com", role="admin")
    return invitation_link_of(created.content.decode()).rsplit("/", 2)[1]


def test_a_removed_admin_cannot_come_back_through_an_invitation_they_made(
    admin_portal_client, admin_membership, second_admin
):
    token = own_admin_invitation(admin_portal_client)
    _, other_admin_client = second_admin
    assert other_admin_client.post(remove_url(admin_membership)).status_code == 302
    before = snapshot()

    assert admin_portal_client.get(invitation_path(token)).status_code == 404
    assert admin_portal_client.post(invitation_path(token)).status_code == 404
    assert snapshot() == before
    assert not Membership.objects.filter(user=admin_membership.user).exists()


def test_a_demoted_admin_cannot_become_admin_again_through_an_invitation_they_made(
    admin_portal_client, admin_membership, second_admin
):
    token = own_admin_invitation(admin_portal_client)
    _, other_admin_client = second_admin
    assert other_admin_client.post(role_url(admin_membership), {"role": "member"}).status_code == 302
    before = snapshot()

    assert admin_portal_client.get(invitation_path(token)).status_code == 404
    assert admin_portal_client.post(invitation_path(token)).status_code == 404
    assert snapshot() == before
    admin_membership.refresh_from_db()
    assert admin_membership.role == Membership.Role.MEMBER


def test_a_demoted_admin_signed_out_cannot_make_a_second_account_through_an_invitation_they_made(
    admin_portal_client, admin_membership, second_admin, client
):
    token = own_admin_invitation(admin_portal_client)
    _, other_admin_client = second_admin
    other_admin_client.post(role_url(admin_membership), {"role": "member"})
    admin_portal_client.post("/accounts/logout/")
    before = snapshot()

    assert admin_portal_client.get(invitation_path(token)).status_code == 404
    assert create_account(admin_portal_client, token, username="second-self").status_code == 404
    assert create_account(client, token, username="second-self").status_code == 404
    assert snapshot() == before
    assert not User.objects.filter(username="second-self").exists()


def test_an_admin_stepping_down_revokes_their_invitations_in_the_activity_and_the_list(
    admin_portal_client, admin_membership, second_admin, invite
):
    other_admin, other_admin_client = second_admin
    own_admin_invitation(admin_portal_client)
    post_invitation(admin_portal_client, email="colleague@example.com", role="member")
    _, kept_token = invite(email="kept@example.com", actor=Actor.for_member(other_admin))
    pending = other_admin_client.get(MEMBERS).content.decode()
    assert "spare@example.com" in pending and "colleague@example.com" in pending

    assert admin_portal_client.post(role_url(admin_membership), {"role": "member"}).status_code == 302

    page = other_admin_client.get(MEMBERS).content.decode()
    assert "spare@example.com" not in page and "colleague@example.com" not in page
    assert "kept@example.com" in page
    revoked = MemberEvent.objects.filter(action=MemberEvent.Action.INVITATION_REVOKED).order_by("subject")
    reason = f"its creator {admin_membership.user.username} is no longer an admin"
    assert list(revoked.values_list("subject", "actor", "changes")) == [
        ("colleague@example.com", admin_membership.user.pk, {"reason": reason}),
        ("spare@example.com", admin_membership.user.pk, {"reason": reason}),
    ]
    assert Invitation.objects.filter(revoked_at__isnull=False).count() == 2
    activity = other_admin_client.get("/integrations/activity/").content.decode()
    assert activity.count(reason) == 2
    # The invitation of the admin who stays admin still works.
    assert create_account(Client(), kept_token, username="kept").status_code == 302


def test_an_invitation_opened_before_its_creator_was_demoted_cannot_be_used_after(
    admin_membership, second_admin, invite, other_organization
):
    # The demotion here bypasses the service (as an older release or a database console would): the link is
    # refused where it is used, inside the join's transaction, not only by the revocation.
    invitation, token = invite(role=Membership.Role.ADMIN, actor=Actor.for_member(admin_membership))
    visitor = signed_in(MembershipFactory(organization=other_organization).user)
    assert visitor.get(invitation_path(token)).status_code == 200
    assert Client().get(invitation_path(token)).status_code == 200

    Membership.objects.filter(pk=admin_membership.pk).update(role=Membership.Role.MEMBER)
    before = snapshot()

    assert visitor.post(invitation_path(token)).status_code == 404
    assert create_account(Client(), token, username="latecomer").status_code == 404
    assert snapshot() == before


def test_an_invitation_whose_creator_was_deleted_does_not_open(admin_membership, second_admin, invite):
    invitation, token = invite(actor=Actor.for_member(admin_membership))
    admin_membership.user.delete()
    invitation.refresh_from_db()
    assert invitation.invited_by is None
    before = snapshot()

    assert Client().get(invitation_path(token)).status_code == 404
    assert create_account(Client(), token).status_code == 404
    assert snapshot() == before
    assert "new@example.com" not in second_admin[1].get(MEMBERS).content.decode()


# --- Brute force -----------------------------------------------------------------------------------------------------


@pytest.fixture
def small_limits(settings):
    settings.FAILURE_LIMITS = {
        **settings.FAILURE_LIMITS,
        "INVITATION_PER_ADDRESS": (3, 900),
        "INVITATION_SIGNUP_PER_ADDRESS": (3, 900),
    }


def test_unknown_links_lock_the_address_out_even_for_a_valid_link(client, invite, small_limits):
    _, token = invite()
    for n in range(3):
        assert client.get(invitation_path(f"guess-{n}")).status_code == 404

    locked = client.get(invitation_path(token))

    assert locked.status_code == 429
    assert 0 < int(locked["Retry-After"]) <= 901
    assert create_account(client, token).status_code == 429
    assert not User.objects.filter(username="newcomer").exists()
    assert client.get(invitation_path(token), REMOTE_ADDR="192.0.2.99").status_code == 200


def test_refused_account_creations_lock_the_address_out(client, invite, small_limits):
    _, token = invite()
    for _ in range(3):
        assert create_account(client, token, password="short").status_code == 200

    assert create_account(client, token).status_code == 429
    assert not User.objects.filter(username="newcomer").exists()
    assert create_account(client, token, REMOTE_ADDR="192.0.2.99").status_code == 302


# --- Roles and removal -----------------------------------------------------------------------------------------------


def role_url(membership):
    return f"/organization/members/{membership.public_id}/role/"


def remove_url(membership):
    return f"/organization/members/{membership.public_id}/remove/"


def test_an_admin_promotes_and_demotes(admin_portal_client, member_membership):
    assert admin_portal_client.post(role_url(member_membership), {"role": "admin"}).status_code == 302
    member_membership.refresh_from_db()
    assert member_membership.role == "admin"

    assert admin_portal_client.post(role_url(member_membership), {"role": "member"}).status_code == 302
    member_membership.refresh_from_db()
    assert member_membership.role == "member"
    assert list(MemberEvent.objects.order_by("id").values_list("action", "changes")) == [
        ("role_changed", {"role": ["member", "admin"]}),
        ("role_changed", {"role": ["admin", "member"]}),
    ]


def test_an_unknown_role_is_refused(admin_portal_client, member_membership):
    response = admin_portal_client.post(role_url(member_membership), {"role": "owner"})

    assert response.status_code == 200
    assert "Choose Admin or Member." in response.content.decode()
    member_membership.refresh_from_db()
    assert member_membership.role == "member"


def test_the_last_admin_cannot_be_demoted(admin_portal_client, admin_membership, member_membership):
    before = snapshot()

    response = admin_portal_client.post(role_url(admin_membership), {"role": "member"})

    assert response.status_code == 200
    assert "The organization must keep at least one admin" in response.content.decode()
    assert snapshot() == before
    assert not MemberEvent.objects.exists()


def test_the_last_admin_cannot_be_removed(admin_portal_client, admin_membership, member_membership):
    before = snapshot()

    response = admin_portal_client.post(remove_url(admin_membership))

    assert response.status_code == 200
    assert "The organization must keep at least one admin" in response.content.decode()
    assert snapshot() == before


def test_an_admin_may_step_down_while_another_admin_remains(admin_portal_client, admin_membership, organization):
    MembershipFactory(organization=organization, role=Membership.Role.ADMIN)

    assert admin_portal_client.post(role_url(admin_membership), {"role": "member"}).status_code == 302
    admin_membership.refresh_from_db()
    assert admin_membership.role == "member"
    assert "Invite member" not in admin_portal_client.get(MEMBERS).content.decode()


def test_removal_ends_access_from_the_next_request(
    admin_portal_client, member_membership, member_client, make_application
):
    application, _ = make_application(name="Made by the member")
    Application.objects.filter(pk=application.pk).update(created_by=member_membership.user)
    assert member_client.get("/integrations/applications/").status_code == 200
    assert admin_portal_client.get(remove_url(member_membership)).status_code == 200

    response = admin_portal_client.post(remove_url(member_membership), REMOTE_ADDR="192.0.2.5")

    assert response.status_code == 302
    assert not Membership.objects.filter(pk=member_membership.pk).exists()
    refused = member_client.get("/integrations/applications/")
    assert refused.status_code == 403
    assert "You are not a member of any organization" in refused.content.decode()
    assert member_client.get(MEMBERS).status_code == 403
    # Their account and what they made stay.
    assert User.objects.filter(pk=member_membership.user.pk).exists()
    assert Application.objects.get(pk=application.pk).created_by == member_membership.user
    event = MemberEvent.objects.get(action="removed")
    assert (event.subject, event.address) == (member_membership.user.username, "192.0.2.5")


def test_removal_leaves_the_members_other_organizations_alone(admin_portal_client, organization, other_organization):
    both = MembershipFactory(organization=organization, role=Membership.Role.MEMBER)
    MembershipFactory(organization=other_organization, user=both.user, role=Membership.Role.MEMBER)
    client = signed_in(both.user)

    admin_portal_client.post(remove_url(both))

    page = client.get(MEMBERS)
    assert page.status_code == 200
    assert "Globex" in page.content.decode()


def test_removing_a_member_who_is_gone_already_is_a_404(admin_portal_client, member_membership):
    admin_portal_client.post(remove_url(member_membership))

    assert admin_portal_client.post(remove_url(member_membership)).status_code == 404


# --- Who may do what -------------------------------------------------------------------------------------------------


def admin_requests(member, invitation):
    return [
        ("get", INVITE, {}),
        ("post", INVITE, {"email": "x@example.com", "role": "admin", "form_token": "f" * 43}),
        ("post", role_url(member), {"role": "admin"}),
        ("get", remove_url(member), {}),
        ("post", remove_url(member), {}),
        ("post", f"/organization/members/invitations/{invitation.public_id}/revoke/", {}),
    ]


def test_a_member_posting_to_each_admin_url_gets_403_and_nothing_changes(member_client, admin_membership, invite):
    invitation, _ = invite()
    before = snapshot()

    for method, url, data in admin_requests(admin_membership, invitation):
        response = getattr(member_client, method)(url, data)
        assert response.status_code == 403, (method, url)
    assert snapshot() == before
    assert list(MemberEvent.objects.values_list("action", flat=True)) == ["invited"]


def test_another_organizations_member_and_invitation_answer_404(admin_portal_client, other_organization, invite):
    outsider = MembershipFactory(organization=other_organization, role=Membership.Role.ADMIN)
    invitation, _ = invite(organization=other_organization)
    before = snapshot()

    for method, url, data in admin_requests(outsider, invitation)[2:]:
        response = getattr(admin_portal_client, method)(url, data)
        assert response.status_code == 404, (method, url)
    assert snapshot() == before


def test_a_pk_in_place_of_a_public_id_is_a_404(admin_portal_client, member_membership):
    response = admin_portal_client.post(f"/organization/members/{member_membership.pk}/role/", {"role": "admin"})

    assert response.status_code == 404


def test_the_admin_urls_refuse_other_methods(admin_portal_client, member_membership):
    assert admin_portal_client.get(role_url(member_membership)).status_code == 405
    revoke = "/organization/members/invitations/00000000-0000-0000-0000-000000000000/revoke/"
    assert admin_portal_client.get(revoke).status_code == 405


# --- Activity --------------------------------------------------------------------------------------------------------


def test_invitations_joins_role_changes_and_removals_are_in_the_activity(
    admin_portal_client, admin_user, client, invite
):
    created = post_invitation(admin_portal_client, email="new@example.com", role="member")
    link = invitation_link_of(created.content.decode())
    token = link.rsplit("/", 2)[1]
    create_account(client, token, username="newcomer")
    newcomer = Membership.objects.get(user__username="newcomer")
    admin_portal_client.post(role_url(newcomer), {"role": "admin"}, REMOTE_ADDR="192.0.2.20")
    admin_portal_client.post(remove_url(newcomer))
    revoked, _ = invite(email="later@example.com")
    admin_portal_client.post(f"/organization/members/invitations/{revoked.public_id}/revoke/")

    events = list(MemberEvent.objects.order_by("id").values_list("action", "subject", "actor_label"))
    assert events == [
        ("invited", "new@example.com", admin_user.username),
        ("joined", "newcomer", "newcomer"),
        ("role_changed", "newcomer", admin_user.username),
        ("removed", "newcomer", admin_user.username),
        ("invited", "later@example.com", admin_user.username),
        ("invitation_revoked", "later@example.com", admin_user.username),
    ]
    page = admin_portal_client.get("/integrations/activity/").content.decode()
    for text in (
        "Invitation created",
        "Joined",
        "Role changed",
        "Removed",
        "Invitation revoked",
        "192.0.2.20",
        "role: “member” → “admin”",
        "new@example.com",
    ):
        assert text in page


# --- Password change -------------------------------------------------------------------------------------------------


def test_a_user_changes_their_own_password(member_client, member_membership):
    page = member_client.get("/accounts/password/")
    assert page.status_code == 200
    for name in ("old_password", "new_password1", "new_password2"):
        assert f'name="{name}"' in page.content.decode()

    response = member_client.post(
        "/accounts/password/", {"old_password": PASSWORD, "new_password1": STRONG, "new_password2": STRONG}
    )

    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/done/"
    member_membership.user.refresh_from_db()
    assert member_membership.user.check_password(STRONG)
    assert member_client.get("/accounts/password/done/").status_code == 200
    assert member_client.get(MEMBERS).status_code == 200


def test_a_wrong_old_password_or_a_weak_new_one_changes_nothing(member_client, member_membership):
    def change(old, new):
        data = {"old_password": old, "new_password1": new, "new_password2": new}
        return member_client.post("/accounts/password/", data)

    wrong = change("nope", STRONG)
    weak = change(PASSWORD, "123")

    assert "Your old password was entered incorrectly." in wrong.content.decode()
    assert "This password is too short." in weak.content.decode()
    member_membership.user.refresh_from_db()
    assert member_membership.user.check_password(PASSWORD)


def test_the_password_page_needs_a_signed_in_user(client, db):
    assert client.get("/accounts/password/").status_code == 302


# The old password is the one sign-in guards: wrong ones count in the sign-in counters, at the default limits.
@pytest.fixture
def signin_limits(settings, counter_store):
    settings.FAILURE_LIMITS = {
        **settings.FAILURE_LIMITS,
        "SIGNIN_PER_USERNAME_ADDRESS": (5, 900),
        "SIGNIN_PER_ADDRESS": (50, 900),
    }


def change_password(client, old, new=STRONG, **extra):
    return client.post(
        "/accounts/password/", {"old_password": old, "new_password1": new, "new_password2": new}, **extra
    )


def test_wrong_old_passwords_lock_the_password_page_even_for_the_right_one(
    member_client, member_membership, signin_limits
):
    for _ in range(5):
        wrong = change_password(member_client, "nope")
        assert wrong.status_code == 200
        assert "Your old password was entered incorrectly." in wrong.content.decode()

    locked = change_password(member_client, PASSWORD)

    assert locked.status_code == 429
    assert 0 < int(locked["Retry-After"]) <= 900
    assert "Too many wrong passwords" in locked.content.decode()
    assert "Try again in 15 minutes." in locked.content.decode()
    member_membership.user.refresh_from_db()
    assert member_membership.user.check_password(PASSWORD)


def test_a_locked_password_page_leaves_other_users_at_the_same_address_alone(
    member_client, admin_portal_client, admin_user, signin_limits
):
    for _ in range(5):
        change_password(member_client, "nope")
    assert change_password(member_client, PASSWORD).status_code == 429

    assert change_password(admin_portal_client, PASSWORD).status_code == 302
    admin_user.refresh_from_db()
    assert admin_user.check_password(STRONG)


def test_the_password_page_and_sign_in_spend_one_count_of_guesses(
    member_client, member_membership, client, signin_limits
):
    for _ in range(3):
        client.post("/accounts/login/", {"username": member_membership.user.username, "password": "nope"})
    for _ in range(2):
        assert change_password(member_client, "nope").status_code == 200

    assert change_password(member_client, PASSWORD).status_code == 429
    refused = client.post("/accounts/login/", {"username": member_membership.user.username, "password": PASSWORD})
    assert "Too many failed sign-ins" in refused.content.decode()


def test_a_correct_change_gives_back_only_its_own_place(member_client, member_membership, signin_limits):
    for _ in range(4):
        change_password(member_client, "nope")
    assert change_password(member_client, PASSWORD, new=STRONG).status_code == 302
    # Weak new passwords are no guess at the old one: they count nothing.
    for _ in range(6):
        assert change_password(member_client, STRONG, new="123").status_code == 200

    assert change_password(member_client, "nope").status_code == 200
    assert change_password(member_client, STRONG, new=STRONG + "!").status_code == 429
    member_membership.user.refresh_from_db()
    assert member_membership.user.check_password(STRONG)
