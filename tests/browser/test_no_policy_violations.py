import re

import pytest

pytestmark = pytest.mark.browser


def test_pages_run_within_the_content_security_policy(signed_in_page, make_application):
    page = signed_in_page
    violations = []
    page.on(
        "console",
        lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None,
    )
    application, _ = make_application(name="Policy check")

    page.goto("/integrations/applications/new/")
    page.get_by_role("textbox", name="Name").fill("Created in the browser")
    page.locator("input[name=scopes]").first.check()
    page.get_by_role("button", name="Create Application").click()
    page.get_by_test_id("client-secret").wait_for()
    # The copy script loaded and revealed its buttons.
    page.get_by_role("button", name=re.compile("Copy", re.I)).first.wait_for(state="visible")
    for path in (f"/integrations/applications/{application.public_id}/", "/integrations/activity/", "/api/docs/"):
        page.goto(path)
    page.locator(".swagger-ui .info").wait_for()

    assert violations == []
