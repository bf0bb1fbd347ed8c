"""Two-factor sign-in (contract §13): authenticator apps with real codes, recovery codes, the second step of every way
in, its limits, removing factors and the organization's policy."""

import re
from datetime import datetime, timedelta

import pyotp
import pytest
from django.test import Client

from applications.models import Application
from applications.tests.oauth_helpers import request_token
from portal.models import AuthenticatorApp, MemberEvent, Membership, Organization, RecoveryCode
from portal.tests.factories import PASSWORD, MembershipFactory, OrganizationFactory
from portal.tests.helpers import at_once, form_token_of, signed_in
from portal.tests.storage import everything_stored
from portal.twofactor import add_authenticator_app
from testing.databases import two_writers_at_once

SECURITY = "/accounts/security/"
VERIFY = "/accounts/verify/"


def secret_of(page: str) -> str:
    return re.search(r'data-testid="totp-secret">([A-Z2-7]+)<', page).group(1)


def codes_of(page: str) -> list[str]:
    listed = re.search(r'data-testid="recovery-codes">(.*?)</ol>', page, re.S).group(1)
    return re.findall(r"<code>([a-z2-7-]+)</code>", listed)


def code_at(secret: str, offset_steps: int = 0) -> str:
    # By the real clock (datetime's), which frozen_time leaves alone, as it does the portal's TOTP checks.
    return pyotp.TOTP(secret).at(datetime.now() + timedelta(seconds=30 * offset_steps))


def with_app(user) -> tuple[str, list[str]]:
    """The user gets an authenticator app through the service; returns (secret, recovery codes)."""
    secret = pyotp.random_base32()
    codes = add_authenticator_app(user=user, secret=secret, code=code_at(secret), address=None)
    return secret, codes


def password_step(client, user, **extra):
    return client.post("/accounts/login/", {"username": user.username, "password": PASSWORD}, **extra)


def second_step(client, code, data_next=None, **extra):
    return client.post(VERIFY, {"code": code, **({"next": data_next} if data_next else {})}, **extra)


def signed_in_as(client) -> int | None:
    user_id = client.session.get("_auth_user_id")
    return int(user_id) if user_id else None


# --- Adding an authenticator app ----------------------------------------------------------------------------------


def test_an_authenticator_app_is_added_only_with_a_current_code_and_the_first_factor_shows_ten_recovery_codes(
    admin_portal_client, admin_user
):
    page = admin_portal_client.get(SECURITY)
    assert page.status_code == 200
    assert "no-store" in page["Cache-Control"]
    html = page.content.decode()
    secret = secret_of(html)
    assert len(secret) == 32
    assert 'src="data:image/svg+xml' in html  # the QR code, drawn by the portal itself
    assert admin_portal_client.get(SECURITY).content.decode().count(secret) == 1  # the same key until it is added

    for wrong in ("000000", code_at(secret, -3), code_at(secret, 3), "12345", "abcdef", ""):
        refused = admin_portal_client.post("/accounts/security/authenticator/", {"code": wrong})
        assert refused.status_code == 200
        assert not AuthenticatorApp.objects.exists(), wrong
    assert "That code is not the current one" in refused.content.decode() or "Enter the 6 digits" in (
        refused.content.decode()
    )

    added = admin_portal_client.post("/accounts/security/authenticator/", {"code": code_at(secret)})

    assert added.status_code == 200
    assert "no-store" in added["Cache-Control"]
    codes = codes_of(added.content.decode())
    assert len(codes) == len(set(codes)) == 10
    app = AuthenticatorApp.objects.get(user=admin_user)
    assert secret not in app.encrypted_secret
    assert RecoveryCode.objects.filter(user=admin_user, used_at=None).count() == 10
    assert admin_portal_client.get(SECURITY).content.decode().count('data-testid="totp-secret"') == 0


# --- The second step -------------------------------------------------------------------------------------------------


def test_a_user_with_a_factor_is_signed_in_only_after_a_current_code(client, admin_user):
    secret, _ = with_app(admin_user)

    response = password_step(client, admin_user)

    assert response.status_code == 302 and response["Location"] == VERIFY
    assert signed_in_as(client) is None
    page = client.get(VERIFY)
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    assert second_step(client, "000000").status_code == 200
    assert signed_in_as(client) is None
    done = second_step(client, code_at(secret, 1))  # the setup spent this step's code
    assert done.status_code == 302 and done["Location"] == "/"
    assert signed_in_as(client) == admin_user.pk
    assert client.get("/integrations/applications/").status_code == 200


def test_a_user_without_a_factor_signs_in_with_the_password_alone(client, admin_user):
    assert password_step(client, admin_user)["Location"] == "/"
    assert signed_in_as(client) == admin_user.pk


def test_a_totp_code_is_accepted_once(admin_user):
    secret, _ = with_app(admin_user)
    setup_code = code_at(secret)
    first, second = Client(), Client()
    password_step(first, admin_user)
    # The code that added the app cannot sign anyone in.
    assert second_step(first, setup_code).status_code == 200 and signed_in_as(first) is None
    code = code_at(secret, 1)
    assert second_step(first, code).status_code == 302

    password_step(second, admin_user)
    refused = second_step(second, code)

    assert refused.status_code == 200
    assert "did not work" in refused.content.decode()
    assert signed_in_as(second) is None


@two_writers_at_once
@pytest.mark.django_db(transaction=True)
def test_the_same_code_sent_twice_at_once_signs_in_once(admin_user):
    secret, _ = with_app(admin_user)
    clients = [Client(), Client()]
    for client in clients:
        assert password_step(client, admin_user).status_code == 302
    code = code_at(secret, 1)

    responses = at_once(*[lambda c=client: second_step(c, code) for client in clients])

    assert sorted(response.status_code for response in responses) == [200, 302]
    assert sorted(signed_in_as(client) is not None for client in clients) == [False, True]


def test_wrong_codes_are_limited_per_user_whatever_the_address(client, admin_user, settings):
    secret, _ = with_app(admin_user)
    password_step(client, admin_user)
    for n in range(5):
        response = second_step(client, "000000", REMOTE_ADDR=f"198.51.100.{n}")
        assert response.status_code == 200

    locked = second_step(client, code_at(secret, 1), REMOTE_ADDR="203.0.113.9")

    assert locked.status_code == 429
    assert 0 < int(locked["Retry-After"]) <= 900
    assert "Too many wrong codes for this account. Try again in 15 minutes." in locked.content.decode()
    assert signed_in_as(client) is None
    other = Client()
    password_step(other, admin_user, REMOTE_ADDR="192.0.2.77")
    assert second_step(other, code_at(secret, 1), REMOTE_ADDR="192.0.2.77").status_code == 429


def test_second_step_failures_count_toward_the_addresss_sign_in_failures(client, admin_user, settings):
    settings.FAILURE_LIMITS = {**settings.FAILURE_LIMITS, "SIGNIN_PER_ADDRESS": (3, 900)}
    with_app(admin_user)
    password_step(client, admin_user, REMOTE_ADDR="198.51.100.1")
    for _ in range(3):
        assert second_step(client, "000000", REMOTE_ADDR="198.51.100.1").status_code == 200

    # The same address's sign-ins of anyone are now refused.
    refused = (
        Client()
        .post("/accounts/login/", {"username": "nobody", "password": "x"}, REMOTE_ADDR="198.51.100.1")
        .content.decode()
    )
    assert "Too many failed sign-ins" in refused


def test_recovery_codes_work_once_each_and_regenerating_voids_the_old_ones(client, admin_user, organization):
    _, codes = with_app(admin_user)
    password_step(client, admin_user)
    assert second_step(client, codes[0].upper().replace("-", " ")).status_code == 302  # spacing and case are free
    assert MemberEvent.objects.filter(organization=organization, action="recovery_code_used").count() == 1

    again = Client()
    password_step(again, admin_user)
    assert second_step(again, codes[0]).status_code == 200
    assert signed_in_as(again) is None

    regenerated = client.post("/accounts/security/recovery-codes/")
    assert regenerated.status_code == 200 and "no-store" in regenerated["Cache-Control"]
    new_codes = codes_of(regenerated.content.decode())
    assert len(new_codes) == 10 and not set(new_codes) & set(codes)
    assert second_step(again, codes[1]).status_code == 200  # an unused old code: void
    assert second_step(again, new_codes[1]).status_code == 302
    assert signed_in_as(again) == admin_user.pk
    assert RecoveryCode.objects.filter(user=admin_user, used_at=None).count() == 9


def test_the_second_step_expires_and_a_changed_password_ends_it(client, admin_user, frozen_time):
    secret, _ = with_app(admin_user)
    password_step(client, admin_user)
    frozen_time[0] += 601
    assert client.get(VERIFY)["Location"] == "/accounts/login/"
    assert client.get("/integrations/applications/")["Location"].startswith("/accounts/login/")

    password_step(client, admin_user)
    admin_user.set_password("Another-long-password-9")
    admin_user.save()
    assert client.post(VERIFY, {"code": code_at(secret, 1)})["Location"] == "/accounts/login/"
    assert signed_in_as(client) is None


# --- Nothing but the second step ------------------------------------------------------------------------------------


@pytest.fixture
def portal_pages(admin_membership, make_application, invite):
    application, _ = make_application()
    _, token = invite()
    other = MembershipFactory(organization=admin_membership.organization, role=Membership.Role.MEMBER)
    return [
        "/",
        "/accounts/login/",
        "/accounts/password/",
        "/accounts/password/done/",
        SECURITY,
        "/integrations/applications/",
        "/integrations/applications/new/",
        f"/integrations/applications/{application.public_id}/",
        f"/integrations/applications/{application.public_id}/delete/",
        f"/integrations/applications/{application.public_id}/secrets/new/",
        "/integrations/activity/",
        "/organization/members/",
        "/organization/members/invite/",
        f"/organization/members/{other.public_id}/remove/",
        "/organization/security/",
        f"/invitations/{token}/",
        "/no/such/page/",
    ]


def test_between_the_password_and_the_second_step_no_page_opens(client, admin_user, portal_pages):
    with_app(admin_user)
    password_step(client, admin_user)

    for path in portal_pages:
        response = client.get(path)
        assert (response.status_code, response.get("Location")) == (302, VERIFY), path


def test_between_the_password_and_the_second_step_no_post_changes_anything(
    client, admin_user, admin_membership, organization, portal_pages
):
    with_app(admin_user)
    password_step(client, admin_user)
    page = signed_in(admin_user).get("/organization/members/invite/").content.decode()
    posts = {
        "/integrations/applications/new/": {"name": "Sneaky", "scopes": ["read:credentials"]},
        "/organization/members/invite/": {"email": "x@example.com", "role": "admin", "form_token": form_token_of(page)},
        "/organization/security/": {"require_two_factor": "on"},
        "/accounts/password/": {
            "old_password": PASSWORD,
            "new_password1": "Brand-new-pass-1",
            "new_password2": "Brand-new-pass-1",
        },
        "/accounts/security/recovery-codes/": {},
        "/accounts/security/authenticator/remove/": {"confirmation": PASSWORD},
        "/organizations/switch/": {"organization": organization.slug},
        "/accounts/login/": {"username": admin_user.username, "password": PASSWORD},
    }
    before = RecoveryCode.objects.count(), MemberEvent.objects.count()
    applications = Application.objects.filter(organization=organization).count()

    for path, data in posts.items():
        response = client.post(path, data)
        assert (response.status_code, response.get("Location")) == (302, VERIFY), path

    organization.refresh_from_db()
    admin_user.refresh_from_db()
    assert not organization.require_two_factor
    assert admin_user.check_password(PASSWORD)
    assert AuthenticatorApp.objects.filter(user=admin_user).exists()
    assert (RecoveryCode.objects.count(), MemberEvent.objects.count()) == before
    assert Application.objects.filter(organization=organization).count() == applications
    assert signed_in_as(client) is None


def test_sign_out_ends_a_waiting_second_step(client, admin_user):
    with_app(admin_user)
    password_step(client, admin_user)

    assert client.post("/accounts/logout/")["Location"] == "/accounts/login/"
    assert client.get("/accounts/login/").status_code == 200
    assert client.get(VERIFY)["Location"] == "/accounts/login/"


def test_the_api_and_the_token_endpoint_ignore_a_waiting_second_step(client, admin_user, make_application):
    with_app(admin_user)
    application, secret = make_application()
    password_step(client, admin_user)

    token = request_token(client, application, secret)
    assert token.status_code == 200
    listed = client.get("/api/credentials", HTTP_AUTHORIZATION=f"Bearer {token.json()['access_token']}")
    assert listed.status_code == 200


def test_signing_in_from_an_invitation_link_passes_the_second_step_and_goes_on_to_join(
    client, member_membership, other_organization, invite
):
    user = member_membership.user
    secret, _ = with_app(user)
    _, token = invite(organization=other_organization)
    link = f"/invitations/{token}/"

    response = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD, "next": link})
    assert response["Location"] == f"{VERIFY}?next=%2Finvitations%2F{token}%2F"
    # Where the user goes is in the step's URL and form, as on the sign-in page: the link's token is in no table.
    assert token not in everything_stored(client)
    assert client.get(link)["Location"] == VERIFY
    assert client.post(link)["Location"] == VERIFY
    assert not Membership.objects.filter(user=user, organization=other_organization).exists()
    assert f'name="next" value="/invitations/{token}/"' in client.get(response["Location"]).content.decode()

    assert second_step(client, code_at(secret, 1), data_next=link)["Location"] == link
    assert client.post(link)["Location"] == "/organization/members/"
    assert Membership.objects.filter(user=user, organization=other_organization).exists()


# --- Removing factors -------------------------------------------------------------------------------------------------


def test_removing_the_last_factor_needs_the_password_or_a_current_code(admin_portal_client, admin_user, organization):
    secret, _ = with_app(admin_user)
    remove = "/accounts/security/authenticator/remove/"

    assert admin_portal_client.post(remove).status_code == 400
    assert admin_portal_client.post(remove, {"confirmation": "wrong password"}).status_code == 400
    assert admin_portal_client.post(remove, {"confirmation": code_at(secret)}).status_code == 400  # spent at setup
    assert AuthenticatorApp.objects.filter(user=admin_user).exists()

    assert admin_portal_client.post(remove, {"confirmation": PASSWORD})["Location"] == SECURITY

    assert not AuthenticatorApp.objects.filter(user=admin_user).exists()
    assert not RecoveryCode.objects.filter(user=admin_user).exists()
    kinds = list(MemberEvent.objects.filter(organization=organization).values_list("action", "changes"))
    assert ("two_factor_added", {"factor": "authenticator app"}) in kinds
    assert ("two_factor_removed", {"factor": "authenticator app"}) in kinds
    assert password_step(Client(), admin_user)["Location"] == "/"


def test_the_last_factor_goes_with_a_current_code_too(admin_portal_client, admin_user):
    secret, _ = with_app(admin_user)

    removed = admin_portal_client.post("/accounts/security/authenticator/remove/", {"confirmation": code_at(secret, 1)})

    assert removed.status_code == 302
    assert not AuthenticatorApp.objects.exists()


def test_wrong_confirmations_count_as_wrong_passwords(admin_portal_client, admin_user, settings):
    settings.FAILURE_LIMITS = {**settings.FAILURE_LIMITS, "SIGNIN_PER_USERNAME_ADDRESS": (2, 900)}
    with_app(admin_user)
    remove = "/accounts/security/authenticator/remove/"
    for _ in range(2):
        assert admin_portal_client.post(remove, {"confirmation": "wrong"}).status_code == 400

    locked = admin_portal_client.post(remove, {"confirmation": PASSWORD})

    assert locked.status_code == 429
    assert AuthenticatorApp.objects.exists()


def test_adding_and_removing_are_recorded_in_every_organization_of_the_user(admin_portal_client, admin_user):
    second = MembershipFactory(user=admin_user, organization=OrganizationFactory(), role=Membership.Role.MEMBER)
    with_app(admin_user)

    for organization in (admin_user.memberships.first().organization, second.organization):
        event = MemberEvent.objects.get(organization=organization, action="two_factor_added")
        assert (event.subject, event.actor_id) == (admin_user.username, admin_user.pk)


# --- The organization's policy ---------------------------------------------------------------------------------------


def test_a_member_without_a_factor_is_sent_to_add_one_by_every_page_of_a_requiring_organization(
    member_membership, admin_membership, organization, portal_pages, make_application
):
    organization.require_two_factor = True
    organization.save()
    member = signed_in(member_membership.user)
    application, secret = make_application(name="Policy check")
    organization_pages = [
        path for path in portal_pages if path.startswith(("/integrations/", "/organization/")) or path == "/"
    ]

    for path in organization_pages:
        response = member.get(path, follow=True)
        assert response.redirect_chain[-1][0] == SECURITY, path
    assert member.get(SECURITY).status_code == 200
    assert member.get("/accounts/password/").status_code == 200

    # Application credentials are not a member's sign-in: the token endpoint and the API work as before.
    client = Client()
    token = request_token(client, application, secret)
    assert token.status_code == 200
    assert (
        client.get("/api/credentials", HTTP_AUTHORIZATION=f"Bearer {token.json()['access_token']}").status_code == 200
    )

    with_app(member_membership.user)
    assert member.get("/integrations/applications/").status_code == 200
    assert member.get("/organization/members/").status_code == 200


def test_the_policy_binds_only_its_own_organization(member_membership, organization, other_organization):
    other_organization.require_two_factor = True
    other_organization.save()
    member = signed_in(member_membership.user)

    assert member.get("/integrations/applications/").status_code == 200


def test_only_admins_change_the_policy_and_it_is_recorded(admin_portal_client, member_client, organization):
    refused = member_client.post("/organization/security/", {"require_two_factor": "on"})
    assert refused.status_code == 403
    organization.refresh_from_db()
    assert not organization.require_two_factor
    assert "Only admins change this" in member_client.get("/organization/security/").content.decode()

    assert admin_portal_client.post("/organization/security/", {"require_two_factor": "on"}).status_code == 302

    organization.refresh_from_db()
    assert organization.require_two_factor
    event = MemberEvent.objects.get(organization=organization, action="two_factor_required")
    assert event.actor_label == organization.memberships.get(role="admin").user.username


def test_another_organizations_admin_cannot_change_the_policy(organization, other_organization):
    outsider = MembershipFactory(organization=other_organization, role=Membership.Role.ADMIN)
    client = signed_in(outsider.user)

    client.post("/organization/security/", {"require_two_factor": "on"})

    assert not Organization.objects.get(pk=organization.pk).require_two_factor


def test_the_members_page_shows_each_members_two_factor_status(admin_portal_client, admin_user, member_membership):
    with_app(admin_user)

    html = admin_portal_client.get("/organization/members/").content.decode()

    statuses = re.findall(r'data-testid="two-factor-status">(?:<span class="muted">)?(On|Off)', html)
    assert statuses == ["On", "Off"]


# --- Pages ---------------------------------------------------------------------------------------------------------


def test_reached_by_an_ip_address_the_page_says_passkeys_need_a_host_name(admin_portal_client):
    by_ip = admin_portal_client.get(SECURITY, HTTP_HOST="127.0.0.1").content.decode()
    by_name = admin_portal_client.get(SECURITY, HTTP_HOST="localhost").content.decode()

    assert 'data-testid="passkeys-need-host-name"' in by_ip
    assert "passkey-registration-options" not in by_ip
    assert 'data-testid="passkeys-need-host-name"' not in by_name
    assert '"rp": {"name": "Integrations Portal", "id": "localhost"}' in by_name


def test_every_two_factor_form_needs_its_csrf_token(admin_user):
    with_app(admin_user)
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    for path in (
        "/accounts/security/authenticator/",
        "/accounts/security/authenticator/remove/",
        "/accounts/security/passkeys/",
        "/accounts/security/recovery-codes/",
        "/organization/security/",
    ):
        assert client.post(path, {"confirmation": PASSWORD}).status_code == 403, path
    assert AuthenticatorApp.objects.exists()
    anonymous = Client(enforce_csrf_checks=True)
    password_step(Client(), admin_user)
    assert anonymous.post(VERIFY, {"code": "000000"}).status_code == 403


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/", "/accounts/verify/"])
def test_the_second_step_goes_on_only_to_this_sites_pages(client, admin_user, next_url):
    secret, _ = with_app(admin_user)
    password_step(client, admin_user)

    assert second_step(client, code_at(secret, 1), data_next=next_url)["Location"] == "/"
