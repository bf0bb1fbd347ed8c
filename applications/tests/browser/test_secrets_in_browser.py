"""Contract §6 in Chromium: the Client secrets section, rotation with its one-time reveal, and revocation."""

import pytest
from dotenv import dotenv_values
from playwright.sync_api import expect

from applications.models import ClientSecret
from applications.services import rotate_secret
from applications.tests.browser.test_applications_in_browser import download, request_token
from portal.actors import COMMAND_LINE
from portal.tests.browser.helpers import scrolls_sideways

pytestmark = pytest.mark.browser

LIST_PATH = "/integrations/applications/"


def secret_rows(page):
    return page.get_by_test_id("client-secrets").locator("tbody tr")


def test_admin_rotates_without_downtime_then_revokes_the_old_secret(
    signed_in_page, live_server, make_application, tmp_path
):
    page = signed_in_page
    application, old = make_application()
    old_row = application.secrets.get()
    assert request_token(live_server, application.client_id, old).status_code == 200

    page.goto(f"{LIST_PATH}{application.public_id}/")
    section = page.get_by_test_id("client-secrets")
    section.get_by_role("heading", name="Client secrets").wait_for()
    assert secret_rows(page).count() == 1
    assert f"…{old_row.hint}" in secret_rows(page).first.inner_text()

    section.get_by_role("link", name="Generate new secret").click()
    page.get_by_role("heading", name="Generate a new secret for “Nightly sync”").wait_for()
    assert page.get_by_label("Keep the current secret working for").input_value() == "86400"
    assert page.get_by_label("Secret expires after").input_value() == "never"
    page.get_by_label("Keep the current secret working for").select_option("3600")
    page.get_by_label("Secret expires after").select_option("90")
    page.get_by_role("button", name="Generate new secret").click()

    page.get_by_role("heading", name="New client secret for “Nightly sync”").wait_for()
    assert page.get_by_test_id("client-id").inner_text() == application.client_id
    new = page.get_by_test_id("client-secret").inner_text()
    assert new.startswith("ipcs_") and new != old
    env = dotenv_values(download(page, "download-env", tmp_path))
    assert (env["CLIENT_ID"], env["CLIENT_SECRET"]) == (application.client_id, new)
    assert download(page, "download-postman", tmp_path).name == "nightly-sync.postman_environment.json"

    # Both work while deployments switch over.
    assert request_token(live_server, application.client_id, new).status_code == 200
    assert request_token(live_server, application.client_id, old).status_code == 200

    # Back, then the form again: nothing new, and no secret.
    page.go_back()
    page.get_by_role("button", name="Generate new secret").click()
    page.get_by_role("heading", name="This form was already submitted").wait_for()
    assert new not in page.content() and page.get_by_test_id("client-secret").count() == 0
    assert ClientSecret.objects.filter(application=application).count() == 2

    page.get_by_role("link", name="View “Nightly sync”").click()
    expect(secret_rows(page)).to_have_count(2)  # the page the link opens, once it has loaded
    assert new not in page.content() and old not in page.content()
    old_line = page.locator(f'tr[data-secret-id="{old_row.public_id}"]')
    assert "never" not in old_line.locator('td[data-label="Expires"]').inner_text()
    assert old_line.locator('td[data-label="Last used"] time').count() == 1  # used above
    old_line.get_by_role("link", name=f"Revoke secret …{old_row.hint}").click()

    page.get_by_role("heading", name=f"Revoke secret …{old_row.hint} of “Nightly sync”?").wait_for()
    checkbox = page.get_by_label("Also revoke every access token issued with this secret")
    assert checkbox.is_checked()
    page.get_by_role("button", name=f"Revoke secret …{old_row.hint}").click()
    page.get_by_text(f"Secret …{old_row.hint} revoked").wait_for()
    assert secret_rows(page).count() == 1
    history = page.locator("table.events").inner_text()
    assert f"Secret revoked …{old_row.hint}" in history and f"Secret generated …{new[-4:]}" in history

    refused = request_token(live_server, application.client_id, old)
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"
    assert request_token(live_server, application.client_id, new).status_code == 200


def test_the_only_live_secret_cannot_be_revoked_in_the_browser(signed_in_page, make_application):
    page = signed_in_page
    application, _ = make_application()
    page.goto(f"{LIST_PATH}{application.public_id}/")
    secret_rows(page).first.get_by_role("link", name="Revoke").click()
    page.get_by_text(
        "cannot be revoked: generate a new secret or add a key first, or delete the application"
    ).wait_for()
    assert page.get_by_role("button", name="Revoke").count() == 0
    assert application.secrets.get().revoked_at is None


def test_two_live_secrets_refuse_a_third_in_the_browser(signed_in_page, make_application):
    page = signed_in_page
    application, _ = make_application()
    rotate_secret(application=application, actor=COMMAND_LINE)
    page.goto(f"{LIST_PATH}{application.public_id}/secrets/new/")
    page.get_by_role("button", name="Generate new secret").click()
    page.get_by_text("revoke one of them first").first.wait_for()
    assert page.get_by_test_id("client-secret").count() == 0
    assert application.secrets.count() == 2


def test_the_secret_pages_fit_a_375_pixel_wide_screen(signed_in_page, make_application):
    page = signed_in_page
    application, _ = make_application()
    rotate_secret(application=application, actor=COMMAND_LINE, expires_in_days=30)
    first = application.secrets.first()
    page.set_viewport_size({"width": 375, "height": 740})
    for path in (
        f"{LIST_PATH}{application.public_id}/",
        f"{LIST_PATH}{application.public_id}/secrets/new/",
        f"{LIST_PATH}{application.public_id}/secrets/{first.public_id}/revoke/",
        LIST_PATH,
    ):
        page.goto(path)
        assert not scrolls_sideways(page), path
