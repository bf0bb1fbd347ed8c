"""Generate key pair in a browser without JavaScript: the one-time reveal, its .pem download, and a token with it."""

import pytest
import requests
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from applications.tests.key_helpers import claims_for, sign
from portal.tests.browser.helpers import press, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def page_without_javascript(browser, live_server, settings, admin_user):
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    context = browser.new_context(base_url=live_server.url, accept_downloads=True, java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(10_000)
    sign_in(page, admin_user.username)
    yield page
    context.close()


def test_an_admin_generates_a_key_pair_downloads_the_private_key_and_gets_a_token(
    page_without_javascript, live_server, make_application, tmp_path
):
    page = page_without_javascript
    application, _ = make_application(name="Nightly sync")
    page.goto(f"/integrations/applications/{application.public_id}/")
    page.get_by_role("link", name="Generate key pair").click()
    press(page, "Generate key pair", then="Save the private key now")

    kid = page.get_by_test_id("key-id").inner_text()
    shown = page.get_by_test_id("private-key").inner_text()
    with page.expect_download() as info:
        page.get_by_test_id("download-private-key").click()
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)

    assert info.value.suggested_filename == f"nightly-sync-{kid[:8]}.pem"
    assert path.read_text().strip() == shown.strip()
    private = load_pem_private_key(path.read_bytes(), None)
    assertion = sign(private, claims_for(application.client_id, audience=f"{live_server.url}/oauth/token"), kid=kid)
    response = requests.post(
        f"{live_server.url}/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion,
        },
        timeout=10,
    )
    assert response.status_code == 200, response.text

    page.reload()
    assert "BEGIN PRIVATE KEY" not in page.content()
