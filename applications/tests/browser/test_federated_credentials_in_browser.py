"""Federated credentials in a browser: add one with the pre-filled audience, copy the GitHub Actions job, test a
workload's token on the row, revoke it; every page within the Content-Security-Policy."""

import re

import pytest
import requests

from applications.tests.issuer_helpers import SUBJECT
from portal.tests.browser.helpers import confirm, press, scrolls_sideways

pytestmark = pytest.mark.browser


def test_an_admin_adds_tests_and_revokes_a_federated_credential(signed_in_page, live_server, make_application, issuer):
    page = signed_in_page
    violations = []
    page.on("console", lambda message: violations.append(message.text) if "Content Security" in message.text else None)
    application, _ = make_application(name="Deploys")

    page.goto(f"/integrations/applications/{application.public_id}/")
    page.get_by_role("link", name="Add federated credential").click()
    # The copy script revealed the job's copy button.
    page.get_by_role("button", name=re.compile("Copy the GitHub Actions job")).wait_for(state="visible")
    assert page.get_by_label("Audience").input_value() == live_server.url
    assert not scrolls_sideways(page)
    page.get_by_label("Name").fill("Deploy from main")
    page.get_by_label("Issuer").fill(issuer.url)
    page.get_by_label("Subject").fill(SUBJECT)
    press(page, "Add federated credential", then="Federated credential “Deploy from main” added")

    row = page.locator("[data-federated-credential-id]")
    assert SUBJECT in row.inner_text()
    row.get_by_role("link", name=re.compile("Test a token")).click()
    token = issuer.token(live_server.url)
    page.get_by_label("Workload token").fill(token)
    press(page, "Test the token", then="This token would get an access token")
    assert page.get_by_label("Workload token").input_value() == ""
    # Tested, not used up: the workload trades it.
    traded = requests.post(
        f"{live_server.url}/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": application.client_id,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": token,
        },
        timeout=10,
    )
    assert traded.status_code == 200, traded.text

    page.goto(f"/integrations/applications/{application.public_id}/")
    page.locator("[data-federated-credential-id]").get_by_role("link", name=re.compile("Revoke")).click()
    assert page.get_by_label(re.compile("Also revoke every access token")).is_checked()
    confirm(
        page,
        question="Revoke federated credential “Deploy from main” of “Deploys”?",
        button="Revoke federated credential “Deploy from main”",
        then="1 access token issued through it revoked too",
    )
    assert page.locator("[data-federated-credential-id]").count() == 0
    assert violations == []
