"""Passkeys in Chromium with the DevTools virtual authenticator, against http://localhost:<port> (contract §13)."""

import pytest
from django_otp_webauthn.models import WebAuthnCredential

from portal.models import MemberEvent
from portal.tests.browser.helpers import sign_in
from portal.tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def add_virtual_authenticator(session) -> str:
    """A platform authenticator that holds passkeys, verifies its user and answers every prompt by itself."""
    options = {
        "protocol": "ctap2",
        "transport": "internal",
        "hasResidentKey": True,
        "hasUserVerification": True,
        "isUserVerified": True,
        "automaticPresenceSimulation": True,
    }
    return session.send("WebAuthn.addVirtualAuthenticator", {"options": options})["authenticatorId"]


def add_passkey(page, name: str) -> None:
    page.goto("/accounts/security/")
    page.get_by_label("Passkey name").fill(name)
    page.get_by_role("button", name="Add a passkey").click()
    page.get_by_text(f"Passkey “{name}” added.").wait_for()


def test_passkeys_are_added_sign_in_and_are_removed(page, live_server, admin_user, organization):
    # WebAuthn refuses bare IP addresses: the live server must be reached as localhost.
    assert live_server.url.startswith("http://localhost:")
    violations = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    devtools = page.context.new_cdp_session(page)
    devtools.send("WebAuthn.enable")
    laptop = add_virtual_authenticator(devtools)
    sign_in(page, admin_user.username)

    add_passkey(page, "Work laptop")
    codes = page.get_by_test_id("recovery-codes").locator("code").all_inner_texts()
    assert len(codes) == 10
    # A second device: an authenticator holds one passkey per account (the page excludes those it has).
    devtools.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": laptop})
    add_virtual_authenticator(devtools)
    add_passkey(page, "Second key")
    assert page.get_by_test_id("recovery-codes").count() == 0  # shown with the first factor only
    assert sorted(WebAuthnCredential.objects.filter(user=admin_user).values_list("name", flat=True)) == [
        "Second key",
        "Work laptop",
    ]

    page.get_by_role("button", name="Sign out").click()
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(admin_user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/accounts/verify/")
    page.goto("/integrations/applications/")
    page.wait_for_url("**/accounts/verify/")  # nothing opens before the second step
    page.get_by_role("button", name="Use a passkey").click()
    page.wait_for_url("**/integrations/applications/")

    page.goto("/accounts/security/")
    with page.expect_navigation():
        page.get_by_role("button", name="Remove passkey Work laptop").click()
    page.get_by_text("Removed.").wait_for()
    # The last one asks for proof: a passkey (the second device's) will do. The page it answers with is awaited,
    # not the "Removed." the first removal left on this one.
    with page.expect_navigation():
        page.get_by_role("button", name="Confirm with a passkey and remove").click()
    page.get_by_text("Removed.").wait_for()
    assert not WebAuthnCredential.objects.filter(user=admin_user).exists()
    actions = list(MemberEvent.objects.filter(organization=organization).values_list("action", flat=True))
    assert actions.count("two_factor_added") == 2 and actions.count("two_factor_removed") == 2
    assert violations == []
