import pytest

HARDENING = {
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}


def assert_hardened(response):
    for header, value in HARDENING.items():
        assert response[header] == value, (response.request["PATH_INFO"], header)
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "style-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy


@pytest.fixture
def application(make_application):
    return make_application()[0]


@pytest.mark.parametrize(
    "path",
    [
        "/accounts/login/",
        "/integrations/applications/",
        "/integrations/applications/new/",
        "/integrations/applications/{id}/",
        "/integrations/applications/{id}/delete/",
        "/integrations/activity/",
        "/organization/members/",
        "/organization/members/invite/",
        "/invitations/unknown/",
        "/accounts/password/",
        "/api/docs/",
        "/api/schema/",
        "/api/postman-collection.json",
        "/nowhere/",
    ],
)
def test_every_page_carries_the_security_headers(client, admin_user, application, path):
    client.force_login(admin_user)

    assert_hardened(client.get(path.format(id=application.public_id)))


@pytest.mark.parametrize("path", ["/api/credentials", "/api/applications", "/api/organization", "/api/nope"])
def test_every_api_answer_carries_the_security_headers(client, application, get_token, path, make_application):
    every_scope, secret = make_application(
        name="All", scopes=["read:credentials", "read:applications", "read:organizations"]
    )
    token = get_token(every_scope, secret)

    assert_hardened(client.get(path, HTTP_AUTHORIZATION=f"Bearer {token}"))
    assert_hardened(client.get(path))


def test_token_endpoint_answers_carry_the_security_headers(client, db):
    assert_hardened(
        client.post("/oauth/token", "grant_type=client_credentials", content_type="application/x-www-form-urlencoded")
    )


def test_session_cookies_are_httponly_and_samesite_lax(client, admin_user):
    from portal.tests.factories import PASSWORD

    response = client.post("/accounts/login/", {"username": admin_user.username, "password": PASSWORD})

    cookie = response.cookies["sessionid"]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
