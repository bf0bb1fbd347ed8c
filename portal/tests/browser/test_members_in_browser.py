import pytest

from portal.models import Invitation, Membership
from portal.tests.browser.helpers import confirm, press, scrolls_sideways, sign_in
from portal.tests.factories import PASSWORD, MembershipFactory

pytestmark = pytest.mark.browser

MEMBERS = "/organization/members/"


def test_an_admin_invites_and_a_new_person_joins_with_the_invited_role(
    signed_in_page, browser, live_server, organization
):
    page = signed_in_page
    violations = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page.get_by_role("link", name="Members").click()
    page.get_by_role("link", name="Invite member").click()
    page.get_by_label("Email").fill("grace@example.com")
    page.get_by_label("Admin").check()
    page.get_by_role("button", name="Create invitation").click()

    link = page.get_by_test_id("invitation-link").inner_text()
    assert link.startswith(f"{live_server.url}/invitations/")
    page.get_by_role("button", name="Copy invitation link").click()
    assert page.evaluate("navigator.clipboard.readText()") == link
    page.get_by_text("The link was not mailed").wait_for()

    # Back, then send the form again: no second invitation, no link.
    page.go_back()
    page.get_by_role("button", name="Create invitation").click()
    page.get_by_role("heading", name="This form was already submitted").wait_for()
    assert link not in page.content()
    assert Invitation.objects.count() == 1

    guest_context = browser.new_context()
    guest = guest_context.new_page()
    guest.set_default_timeout(10_000)
    guest.goto(link)
    guest.get_by_role("heading", name="Join Acme Corp").wait_for()
    guest.get_by_label("Username").fill("grace")
    guest.get_by_label("Password", exact=True).fill("123")
    guest.get_by_label("Password confirmation").fill("123")
    guest.get_by_role("button", name="Create account and join").click()
    guest.get_by_text("This password is too short.").wait_for()
    guest.get_by_label("Password", exact=True).fill("Violet-harbour-lantern-42")
    guest.get_by_label("Password confirmation").fill("Violet-harbour-lantern-42")
    guest.get_by_role("button", name="Create account and join").click()

    guest.get_by_text("Welcome to Acme Corp: you joined as admin.").wait_for()
    assert guest.url == f"{live_server.url}{MEMBERS}"
    assert guest.locator(".topbar .badge").inner_text() == "Admin"
    assert guest.get_by_role("link", name="Invite member").is_visible()
    membership = Membership.objects.get(user__username="grace")
    assert (membership.organization, membership.role) == (organization, "admin")
    assert membership.user.email == "grace@example.com"

    guest.goto(link)
    guest.get_by_role("heading", name="This invitation link does not work").wait_for()
    guest_context.close()
    assert violations == []


def test_a_member_sees_the_members_but_no_controls(page, member_membership, admin_membership):
    sign_in(page, member_membership.user.username)
    page.get_by_role("link", name="Members").click()

    page.get_by_role("cell", name=admin_membership.user.email).wait_for()
    assert page.get_by_role("link", name="Invite member").count() == 0
    assert page.get_by_role("button").filter(has_text="Change role").count() == 0
    assert page.get_by_role("link", name="Remove").count() == 0
    assert page.get_by_role("heading", name="Pending invitations").count() == 0


def test_an_admin_demotes_and_removes(signed_in_page, organization):
    colleague = MembershipFactory(organization=organization, role=Membership.Role.ADMIN, user__username="bob")
    page = signed_in_page
    page.goto(MEMBERS)

    page.get_by_label("Role of bob").select_option("member")
    press(page, "Change role of bob", then="bob is now member.")
    colleague.refresh_from_db()
    assert colleague.role == "member"

    page.get_by_role("link", name="Remove bob").click()
    confirm(page, question="Remove bob from Acme Corp?", button="Remove bob", then="bob was removed from Acme Corp.")
    assert not Membership.objects.filter(pk=colleague.pk).exists()
    assert page.get_by_label("Role of bob").count() == 0


def test_the_last_admin_cannot_be_demoted_or_removed(signed_in_page, admin_membership, member_membership):
    page = signed_in_page
    me = admin_membership.user.username
    page.goto(MEMBERS)

    page.get_by_label(f"Role of {me}").select_option("member")
    page.get_by_role("button", name=f"Change role of {me}").click()
    page.get_by_role("alert").filter(has_text="The organization must keep at least one admin").wait_for()

    page.get_by_role("link", name=f"Remove {me}").click()
    page.get_by_role("button", name=f"Remove {me}").click()
    page.get_by_role("alert").filter(has_text="The organization must keep at least one admin").wait_for()
    admin_membership.refresh_from_db()
    assert admin_membership.role == "admin"


def test_a_removed_member_sees_a_page_saying_so(page, member_membership, admin_membership):
    sign_in(page, member_membership.user.username)
    member_membership.delete()

    page.goto(MEMBERS)

    page.get_by_role("heading", name="You are not a member of any organization").wait_for()


def test_the_members_pages_fit_a_375_pixel_wide_screen(signed_in_page, member_membership, organization):
    page = signed_in_page
    Invitation.objects.create(
        organization=organization,
        email="someone.with.a.long.address@example.com",
        token_hash="h" * 64,
        expires_at="2999-01-01T00:00:00Z",
    )
    page.set_viewport_size({"width": 375, "height": 740})
    remove = f"{MEMBERS}{member_membership.public_id}/remove/"
    for path in (MEMBERS, f"{MEMBERS}invite/", remove, "/accounts/password/"):
        page.goto(path)
        assert not scrolls_sideways(page), path


def test_the_role_change_works_with_the_keyboard_alone(signed_in_page, member_membership):
    page = signed_in_page
    page.goto(MEMBERS)
    username = member_membership.user.username
    page.get_by_label(f"Role of {username}").focus()
    page.keyboard.press("ArrowUp")  # Member → Admin
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.get_by_text(f"{username} is now admin.").wait_for()


def test_a_user_changes_their_password_from_the_top_bar(signed_in_page, admin_user):
    page = signed_in_page
    page.get_by_role("link", name="Change password").click()
    page.get_by_label("Old password").fill(PASSWORD)
    page.get_by_label("New password", exact=True).fill("Violet-harbour-lantern-42")
    page.get_by_label("New password confirmation").fill("Violet-harbour-lantern-42")
    page.get_by_role("button", name="Change password").click()
    page.get_by_role("heading", name="Password changed").wait_for()
    admin_user.refresh_from_db()
    assert admin_user.check_password("Violet-harbour-lantern-42")
