import pytest

pytestmark = pytest.mark.browser


@pytest.fixture
def outside_requests(page, live_server):
    """Requests the page tried to send to any host but the portal's own; each is refused."""
    attempts = []

    def guard(route):
        if route.request.url.startswith(live_server.url):
            route.continue_()
        else:
            attempts.append(route.request.url)
            route.abort()

    page.route("**/*", guard)
    return attempts


def test_authorize_with_client_credentials_then_try_it_out_lists_credentials(
    page, outside_requests, make_application, make_credential
):
    application, secret = make_application(name="Docs", scopes=["read:credentials", "create:credentials"])
    credential = make_credential()

    page.goto("/api/docs/")
    page.get_by_role("button", name="Authorize").first.click()
    page.locator("#client_id_clientCredentials").fill(application.client_id)
    page.locator("#client_secret_clientCredentials").fill(secret)
    with page.expect_response("**/oauth/token") as token_response:
        page.locator(".auth-btn-wrapper .authorize").click()
    assert token_response.value.status == 200
    # Swagger UI sends client credentials as HTTP Basic (client_secret_basic), with a form body.
    token_request = token_response.value.request
    assert token_request.headers["authorization"].startswith("Basic ")
    assert "grant_type=client_credentials" in token_request.post_data
    page.get_by_role("button", name="Close").click()

    operation = page.locator("#operations-credentials-credentials_list")
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    with page.expect_response(lambda response: response.url.split("?")[0].endswith("/api/credentials")) as api_response:
        operation.get_by_role("button", name="Execute").click()
    assert api_response.value.status == 200
    assert api_response.value.request.headers["authorization"].startswith("Bearer ")
    status = operation.locator(".live-responses-table .response .response-col_status").first
    assert status.inner_text().strip() == "200"
    assert str(credential.public_id) in operation.locator(".live-responses-table").inner_text()
    assert outside_requests == []
