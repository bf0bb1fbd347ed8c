"""GET /.well-known/oauth-authorization-server (RFC 8414), as contract §7 describes it."""

import pytest

from applications.scopes import SCOPES

URL = "/.well-known/oauth-authorization-server"
CLIENT_AUTH = ["client_secret_basic", "client_secret_post", "private_key_jwt"]


def expected_metadata(issuer):
    return {
        "issuer": issuer,
        "token_endpoint": f"{issuer}/oauth/token",
        "revocation_endpoint": f"{issuer}/oauth/revoke",
        "introspection_endpoint": f"{issuer}/oauth/introspect",
        "grant_types_supported": ["client_credentials"],
        "response_types_supported": [],
        "token_endpoint_auth_methods_supported": CLIENT_AUTH,
        "revocation_endpoint_auth_methods_supported": CLIENT_AUTH,
        "introspection_endpoint_auth_methods_supported": CLIENT_AUTH,
        "token_endpoint_auth_signing_alg_values_supported": ["RS256", "PS256", "ES256", "EdDSA"],
        "scopes_supported": [
            "read:credentials",
            "create:credentials",
            "update:credentials",
            "delete:credentials",
            "read:applications",
            "update:applications",
            "delete:applications",
            "read:organizations",
        ],
    }


def test_without_public_base_url_the_issuer_is_the_request_origin(client, db, settings, django_assert_num_queries):
    settings.PUBLIC_BASE_URL = ""
    settings.ALLOWED_HOSTS = ["portal.test"]

    with django_assert_num_queries(0):
        response = client.get(URL, HTTP_HOST="portal.test:8443", secure=True)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == expected_metadata("https://portal.test:8443")


def test_with_public_base_url_the_issuer_is_it_without_a_trailing_slash(
    client, db, settings, django_assert_num_queries
):
    # settings.py strips the trailing slash when it reads the variable; the stored value is what the view sees.
    settings.PUBLIC_BASE_URL = "https://portal.example"

    with django_assert_num_queries(0):
        response = client.get(URL)

    assert response.status_code == 200
    assert response.json() == expected_metadata("https://portal.example")


def test_scopes_supported_is_the_whole_catalog_in_its_order(client):
    assert client.get(URL).json()["scopes_supported"] == list(SCOPES)


def test_the_document_needs_no_authentication_and_is_cacheable_for_an_hour(client):
    response = client.get(URL, HTTP_AUTHORIZATION="Bearer not-a-token")

    assert response.status_code == 200
    assert sorted(part.strip() for part in response["Cache-Control"].split(",")) == ["max-age=3600", "public"]
    assert "Set-Cookie" not in response
    assert "Vary" not in response or "Cookie" not in response["Vary"]


def test_head_answers_like_get_without_a_body(client):
    response = client.head(URL)

    assert response.status_code == 200
    assert response.content == b""


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_other_methods_get_a_json_405(client, method):
    response = getattr(client, method)(URL)

    assert response.status_code == 405
    assert response["Content-Type"] == "application/json"
    assert response["Allow"] == "GET, HEAD"


def test_openid_discovery_is_a_json_404_because_this_is_no_openid_provider(client, db):
    response = client.get("/.well-known/openid-configuration")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}


def test_a_bad_host_gets_a_json_400_not_metadata_for_that_host(client, settings):
    settings.PUBLIC_BASE_URL = ""

    response = client.get(URL, HTTP_HOST="evil.example")

    assert response.status_code == 400
    assert response.json() == {"detail": "Bad request."}


def test_without_public_base_url_a_shared_cache_keeps_one_document_per_host(client, settings):
    settings.PUBLIC_BASE_URL = ""
    settings.ALLOWED_HOSTS = ["portal.test", "other.test"]

    first = client.get(URL, HTTP_HOST="portal.test")
    second = client.get(URL, HTTP_HOST="other.test")

    assert first.json()["issuer"] != second.json()["issuer"]
    for response in (first, second):
        assert "public" in response["Cache-Control"]
        assert [part.strip() for part in response["Vary"].split(",")] == ["Host"]


def test_with_public_base_url_the_document_does_not_vary_by_host(client, settings):
    settings.PUBLIC_BASE_URL = "https://portal.example"
    settings.ALLOWED_HOSTS = ["portal.test", "other.test"]

    first = client.get(URL, HTTP_HOST="portal.test")
    second = client.get(URL, HTTP_HOST="other.test")

    assert first.content == second.content
    assert "Vary" not in first
