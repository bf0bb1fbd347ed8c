import json

import pytest
import requests
from dotenv import dotenv_values

from applications.models import Application
from applications.tests.oauth_helpers import CONTRACT_KEYS
from portal.tests.browser.helpers import confirm, press, scrolls_sideways

pytestmark = pytest.mark.browser

LIST_PATH = "/integrations/applications/"


def request_token(live_server, client_id, secret):
    return requests.post(
        f"{live_server.url}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, secret),
        timeout=10,
    )


def download(page, testid, directory):
    with page.expect_download() as info:
        page.get_by_test_id(testid).click()
    path = directory / info.value.suggested_filename
    info.value.save_as(path)
    return path


def fill_new_application_form(page, name, scopes):
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_role("textbox", name="Description").fill("Copies credentials every night.")
    for scope in scopes:
        page.get_by_label(scope).check()


def test_admin_creates_uses_updates_and_deletes_an_application(signed_in_page, live_server, organization, tmp_path):
    page = signed_in_page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)

    page.get_by_role("link", name="Create your first Application").click()
    fill_new_application_form(page, "Nightly sync", ["read:credentials", "create:credentials"])
    page.get_by_role("button", name="Create Application").click()

    page.get_by_role("heading", name="Application “Nightly sync” created").wait_for()
    client_id = page.get_by_test_id("client-id").inner_text()
    secret = page.get_by_test_id("client-secret").inner_text()
    application = Application.objects.get()
    assert client_id == application.client_id and secret != application.client_secret

    page.get_by_role("button", name="Copy client secret").click()
    assert page.evaluate("navigator.clipboard.readText()") == secret

    env_path = download(page, "download-env", tmp_path)
    assert env_path.name == "nightly-sync.env"
    env = dotenv_values(env_path)
    assert env == {
        "API_BASE_URL": f"{live_server.url}/api",
        "TOKEN_ENDPOINT": f"{live_server.url}/oauth/token",
        "TOKEN_AUDIENCE": f"{live_server.url}/api",
        "ORGANIZATION_ID": str(organization.public_id),
        "CLIENT_ID": client_id,
        "CLIENT_SECRET": secret,
        "SCOPES": "read:credentials create:credentials",
        "REVOCATION_ENDPOINT": f"{live_server.url}/oauth/revoke",
        "INTROSPECTION_ENDPOINT": f"{live_server.url}/oauth/introspect",
    }
    assert list(env) == CONTRACT_KEYS

    postman_path = download(page, "download-postman", tmp_path)
    assert postman_path.name == "nightly-sync.postman_environment.json"
    postman = json.loads(postman_path.read_text())
    assert postman["_postman_variable_scope"] == "environment"
    assert {value["key"]: value["value"] for value in postman["values"]} == env
    assert {value["key"]: value["type"] for value in postman["values"]}["CLIENT_SECRET"] == "secret"

    issued = requests.post(
        env["TOKEN_ENDPOINT"],
        data={"grant_type": "client_credentials", "audience": env["TOKEN_AUDIENCE"]},
        auth=(env["CLIENT_ID"], env["CLIENT_SECRET"]),
        timeout=10,
    )
    assert issued.status_code == 200, issued.text
    assert issued.json()["scope"] == "read:credentials create:credentials"

    # Back to the form and send it again: nothing new, no secret.
    page.go_back()
    page.get_by_role("button", name="Create Application").click()
    page.get_by_role("heading", name="This form was already submitted").wait_for()
    assert secret not in page.content()
    assert page.get_by_test_id("client-secret").count() == 0
    assert Application.objects.count() == 1

    page.get_by_role("link", name="View “Nightly sync”").click()
    page.get_by_role("heading", name="Nightly sync").wait_for()
    assert secret not in page.content()
    assert application.client_secret not in page.content()
    page.get_by_role("textbox", name="Description").fill("Copies credentials every hour.")
    press(page, "Update", then="Application “Nightly sync” updated.")
    application.refresh_from_db()
    assert application.description == "Copies credentials every hour."

    page.get_by_role("button", name="Delete").click()
    confirm(
        page,
        question="Delete “Nightly sync”?",
        button="Delete “Nightly sync”",
        then="Application “Nightly sync” deleted.",
    )
    assert page.url == f"{live_server.url}{LIST_PATH}"
    assert not Application.objects.exists()

    refused = request_token(live_server, client_id, secret)
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_client"


def test_reloading_the_reveal_shows_no_secret(signed_in_page):
    page = signed_in_page
    page.goto(f"{LIST_PATH}new/")
    fill_new_application_form(page, "Reloaded", ["read:organizations"])
    page.get_by_role("button", name="Create Application").click()
    secret = page.get_by_test_id("client-secret").inner_text()

    page.reload()
    page.get_by_role("heading", name="This form was already submitted").wait_for()
    assert secret not in page.content()
    assert Application.objects.count() == 1


def test_pages_fit_a_375_pixel_wide_screen(signed_in_page, make_application):
    page = signed_in_page
    application, _ = make_application(
        name="Quarterly reconciliation of partner credentials",
        description="Reads every credential the partners stored and compares them with the ledger.",
        scopes=["read:credentials", "create:credentials", "update:credentials", "read:organizations"],
    )
    page.set_viewport_size({"width": 375, "height": 740})
    for path in (LIST_PATH, f"{LIST_PATH}{application.public_id}/", f"{LIST_PATH}{application.public_id}/delete/"):
        page.goto(path)
        assert not scrolls_sideways(page), path

    page.goto(f"{LIST_PATH}new/")
    assert not scrolls_sideways(page)
    fill_new_application_form(page, "Narrow screen", ["read:organizations"])
    page.get_by_role("button", name="Create Application").click()
    page.get_by_test_id("client-secret").wait_for()
    assert not scrolls_sideways(page)


def test_actions_menu_works_with_the_keyboard_alone(signed_in_page, make_application):
    page = signed_in_page
    application, _ = make_application()
    page.reload()
    page.locator("summary", has_text="Actions for Nightly sync").focus()
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "View"
    page.keyboard.press("Enter")
    page.wait_for_url(f"**{LIST_PATH}{application.public_id}/")
