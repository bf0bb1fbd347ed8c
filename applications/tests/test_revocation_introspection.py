"""POST /oauth/revoke (RFC 7009) and POST /oauth/introspect (RFC 7662), as contract §7 describes them."""

import json
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import AccessToken

from applications.models import IssuedToken
from applications.tests.oauth_helpers import FORM, basic_auth, request_token

REVOKE = "/oauth/revoke"
INTROSPECT = "/oauth/introspect"
ENDPOINTS = [REVOKE, INTROSPECT]
# Every endpoint takes both client authentications (RFC 6749 §2.3.1) and both body formats (contract §7).
CLIENT_AUTHENTICATIONS = pytest.mark.parametrize(
    "basic", [True, False], ids=["client_secret_basic", "client_secret_post"]
)
BODY_FORMATS = pytest.mark.parametrize("as_json", [False, True], ids=["form", "json"])
HINTS = [None, "access_token", "refresh_token", "", "id_token", "urn:ietf:params:oauth:token-type:jwt", "bogus"]


@pytest.fixture
def own(make_application):
    return make_application(name="Own", scopes=["read:credentials", "create:credentials"])


@pytest.fixture
def sibling(make_application):
    """Another application of the same organization."""
    return make_application(name="Sibling", scopes=["read:credentials"])


@pytest.fixture
def foreign(make_application, other_organization):
    """An application of another organization."""
    return make_application(name="Foreign", scopes=["read:credentials"], organization=other_organization)


def post(client, url, application, secret, *, basic=True, as_json=False, **params):
    """POST to `url` with client authentication (Basic, or in the body) and the given parameters."""
    params = {key: value for key, value in params.items() if value is not None}
    headers = {}
    if basic:
        headers["HTTP_AUTHORIZATION"] = basic_auth(application.client_id, secret)
    else:
        params = {"client_id": application.client_id, "client_secret": secret, **params}
    if as_json:
        return client.post(url, json.dumps(params), content_type="application/json", **headers)
    return client.post(url, urlencode(params), content_type=FORM, **headers)


def basic(application, secret) -> dict:
    return {"HTTP_AUTHORIZATION": basic_auth(application.client_id, secret)}


def introspect(client, application, secret, token, **kwargs):
    return post(client, INTROSPECT, application, secret, token=token, **kwargs)


def revoke(client, application, secret, token, **kwargs):
    return post(client, REVOKE, application, secret, token=token, **kwargs)


def api_status(client, token) -> int:
    return client.get("/api/credentials", HTTP_AUTHORIZATION=f"Bearer {token}").status_code


def assert_inactive(response):
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"active": False}
    assert "no-store" in response["Cache-Control"]


def assert_error(response, status, error):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"] == error
    assert "no-store" in response["Cache-Control"]


# --- Introspection ------------------------------------------------------------


def test_an_own_active_token_is_described_in_full(client, own, get_token):
    application, secret = own
    token = get_token(application, secret)
    stored = AccessToken.objects.get(application=application)

    response = introspect(client, application, secret, token)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "no-store" in response["Cache-Control"]
    assert response.json() == {
        "active": True,
        "scope": "read:credentials create:credentials",
        "client_id": application.client_id,
        "token_type": "Bearer",
        "exp": int(stored.expires.timestamp()),
        "iat": int(stored.created.timestamp()),
        "iss": "http://testserver",
    }


def test_exp_and_iat_are_whole_seconds_an_access_token_lifetime_apart(client, own, get_token, settings):
    application, secret = own
    before = int(timezone.now().timestamp())
    answer = introspect(client, application, secret, get_token(application, secret)).json()
    after = int(timezone.now().timestamp()) + 1

    assert isinstance(answer["exp"], int) and isinstance(answer["iat"], int)
    assert before <= answer["iat"] <= after
    assert answer["exp"] - answer["iat"] in (settings.ACCESS_TOKEN_TTL, settings.ACCESS_TOKEN_TTL - 1)


def test_the_scope_is_the_tokens_own_not_the_applications(client, own, get_token):
    application, secret = own
    token = get_token(application, secret, scope="read:credentials")

    assert introspect(client, application, secret, token).json()["scope"] == "read:credentials"


def test_iss_follows_public_base_url(client, own, get_token, settings):
    settings.PUBLIC_BASE_URL = "https://portal.example"
    application, secret = own
    token = get_token(application, secret)

    assert introspect(client, application, secret, token).json()["iss"] == "https://portal.example"


def test_iss_is_the_issuer_of_the_metadata(client, own, get_token):
    application, secret = own
    answer = introspect(client, application, secret, get_token(application, secret)).json()

    assert answer["iss"] == client.get("/.well-known/oauth-authorization-server").json()["issuer"]


def test_an_own_expired_token_is_inactive(client, own, get_token):
    application, secret = own
    token = get_token(application, secret)
    AccessToken.objects.filter(application=application).update(expires=timezone.now() - timedelta(seconds=1))

    assert_inactive(introspect(client, application, secret, token))


def test_an_own_revoked_token_is_inactive(client, own, get_token):
    application, secret = own
    token = get_token(application, secret)
    assert revoke(client, application, secret, token).status_code == 200

    assert_inactive(introspect(client, application, secret, token))


def test_a_token_of_another_application_of_the_same_organization_is_inactive(client, own, sibling, get_token):
    application, secret = own
    sibling_token = get_token(*sibling)

    assert_inactive(introspect(client, application, secret, sibling_token))
    assert introspect(client, *sibling, sibling_token).json()["active"] is True


def test_a_token_of_another_organization_is_inactive(client, own, foreign, get_token):
    application, secret = own

    assert_inactive(introspect(client, application, secret, get_token(*foreign)))


@pytest.mark.parametrize(
    "token",
    ["x", "ipat_" + "A" * 49, "a" * 5000, "ünïcödé ✓", " ", "%00", "Bearer abc", "null", "\U0001f600"],
)
def test_garbage_tokens_are_inactive(client, own, token):
    assert_inactive(introspect(client, *own, token))


@pytest.mark.parametrize("hint", HINTS)
def test_token_type_hint_never_changes_the_answer(client, own, sibling, get_token, hint):
    application, secret = own
    token = get_token(application, secret)

    assert introspect(client, application, secret, token, token_type_hint=hint).json()["active"] is True
    assert_inactive(introspect(client, application, secret, get_token(*sibling), token_type_hint=hint))
    assert_inactive(introspect(client, application, secret, "unknown", token_type_hint=hint))


def test_introspection_changes_nothing(client, own, get_token):
    application, secret = own
    token = get_token(application, secret)
    before = list(AccessToken.objects.values())

    for _ in range(3):
        introspect(client, application, secret, token)

    assert list(AccessToken.objects.values()) == before
    assert api_status(client, token) == 200


# --- Revocation ---------------------------------------------------------------


def test_a_revoked_token_fails_on_the_next_api_request(client, own, get_token):
    application, secret = own
    token = get_token(application, secret)
    assert api_status(client, token) == 200

    response = revoke(client, application, secret, token)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {}
    assert "no-store" in response["Cache-Control"]
    refused = client.get("/api/credentials", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert refused.status_code == 401
    assert 'error="invalid_token"' in refused["WWW-Authenticate"]
    assert not AccessToken.objects.filter(application=application).exists()


def test_revoking_one_token_leaves_the_clients_other_tokens_working(client, own, get_token):
    application, secret = own
    first, second = get_token(application, secret), get_token(application, secret)

    assert revoke(client, application, secret, first).status_code == 200

    assert api_status(client, first) == 401
    assert api_status(client, second) == 200


def test_revoking_another_applications_token_answers_200_and_the_token_still_works(client, own, sibling, get_token):
    application, secret = own
    sibling_token = get_token(*sibling)

    response = revoke(client, application, secret, sibling_token)

    assert response.status_code == 200
    assert response.json() == {}
    assert api_status(client, sibling_token) == 200
    assert introspect(client, *sibling, sibling_token).json()["active"] is True


def test_revoking_another_organizations_token_answers_200_and_the_token_still_works(client, own, foreign, get_token):
    application, secret = own
    foreign_token = get_token(*foreign)

    assert revoke(client, application, secret, foreign_token).status_code == 200

    assert api_status(client, foreign_token) == 200


@pytest.mark.parametrize("token", ["unknown", "ipat_" + "A" * 49, "a" * 5000, "ünïcödé ✓"])
def test_revoking_an_unknown_token_answers_200(client, own, token):
    response = revoke(client, *own, token)

    assert response.status_code == 200
    assert response.json() == {}


def test_revoking_twice_answers_200_both_times(client, own, get_token):
    application, secret = own
    token = get_token(application, secret)

    assert revoke(client, application, secret, token).status_code == 200
    assert revoke(client, application, secret, token).status_code == 200
    assert api_status(client, token) == 401


@pytest.mark.parametrize("hint", HINTS)
def test_any_token_type_hint_revokes_the_own_token_and_spares_others(client, own, sibling, get_token, hint):
    application, secret = own
    token, sibling_token = get_token(application, secret), get_token(*sibling)

    assert revoke(client, application, secret, token, token_type_hint=hint).status_code == 200
    assert revoke(client, application, secret, sibling_token, token_type_hint=hint).status_code == 200

    assert api_status(client, token) == 401
    assert api_status(client, sibling_token) == 200


def test_revocation_deletes_the_token_and_its_secret_record_in_two_statements_and_spares_others(
    client, own, sibling, get_token
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    application, secret = own
    token, sibling_token = get_token(application, secret), get_token(*sibling)
    table = AccessToken._meta.db_table

    with CaptureQueriesContext(connection) as queries:
        assert revoke(client, application, secret, token).status_code == 200
    token_statements = [query["sql"].lstrip().upper() for query in queries.captured_queries if table in query["sql"]]
    assert revoke(client, application, secret, sibling_token).status_code == 200

    assert len(token_statements) == 2, token_statements
    assert all(sql.startswith("DELETE") for sql in token_statements)
    assert not IssuedToken.objects.filter(access_token__application=application).exists()
    assert IssuedToken.objects.filter(access_token__application=sibling[0]).count() == 1


def test_a_revoked_token_cannot_be_revived_by_asking_for_a_new_one(client, own, get_token):
    application, secret = own
    token = get_token(application, secret)
    revoke(client, application, secret, token)

    fresh = get_token(application, secret)

    assert fresh != token
    assert api_status(client, token) == 401
    assert api_status(client, fresh) == 200


# --- Both endpoints -------------------------------------------------------------


@pytest.mark.parametrize("url", ENDPOINTS)
@CLIENT_AUTHENTICATIONS
@BODY_FORMATS
def test_both_client_authentications_and_both_body_formats_work(client, own, get_token, url, basic, as_json):
    application, secret = own
    token = get_token(application, secret)

    response = post(client, url, application, secret, basic=basic, as_json=as_json, token=token)

    assert response.status_code == 200, response.content
    if url == INTROSPECT:
        assert response.json()["active"] is True
        assert response.json()["client_id"] == application.client_id
    else:
        assert api_status(client, token) == 401


# --- Both endpoints: errors -------------------------------------------------------


@pytest.mark.parametrize("url", ENDPOINTS)
@BODY_FORMATS
def test_a_missing_token_is_invalid_request(client, own, url, as_json):
    assert_error(post(client, url, *own, as_json=as_json), 400, "invalid_request")


@pytest.mark.parametrize("url", ENDPOINTS)
@pytest.mark.parametrize(
    "body", ["token={token}&token=b", "token={token}&token_type_hint=access_token&token_type_hint=x"]
)
def test_a_repeated_parameter_is_invalid_request(client, own, get_token, url, body):
    application, secret = own
    token = get_token(application, secret)

    response = client.post(url, body.format(token=token), content_type=FORM, **basic(application, secret))

    assert_error(response, 400, "invalid_request")
    assert api_status(client, token) == 200


@pytest.mark.parametrize("url", ENDPOINTS)
def test_an_empty_token_is_invalid_request(client, own, url):
    assert_error(post(client, url, *own, token=""), 400, "invalid_request")


@pytest.mark.parametrize("url", ENDPOINTS)
@CLIENT_AUTHENTICATIONS
def test_a_wrong_secret_is_401_invalid_client_and_the_token_is_untouched(client, own, get_token, url, basic):
    application, secret = own
    token = get_token(application, secret)

    response = post(client, url, application, "wrong-secret", basic=basic, token=token)

    assert_error(response, 401, "invalid_client")
    assert response["WWW-Authenticate"] == 'Basic realm="oauth"'
    assert "active" not in response.json()
    assert api_status(client, token) == 200


@pytest.mark.parametrize("url", ENDPOINTS)
def test_an_unknown_client_is_401_invalid_client(client, db, url):
    response = client.post(url, "token=abc", content_type=FORM, HTTP_AUTHORIZATION=basic_auth("nobody", "nothing"))

    assert_error(response, 401, "invalid_client")


@pytest.mark.parametrize("url", ENDPOINTS)
def test_no_client_credentials_at_all_is_401_invalid_client(client, db, url):
    assert_error(client.post(url, "token=abc", content_type=FORM), 401, "invalid_client")


@pytest.mark.parametrize("url", ENDPOINTS)
def test_only_a_client_id_without_a_secret_is_401_invalid_client(client, own, url):
    application, _ = own

    response = client.post(url, urlencode({"token": "abc", "client_id": application.client_id}), content_type=FORM)

    assert_error(response, 401, "invalid_client")


@pytest.mark.parametrize("url", ENDPOINTS)
def test_basic_credentials_with_a_different_client_id_in_the_body_is_invalid_request(client, own, sibling, url):
    application, secret = own

    response = post(client, url, application, secret, token="abc", client_id=sibling[0].client_id)

    assert_error(response, 400, "invalid_request")


@pytest.mark.parametrize("url", ENDPOINTS)
def test_a_one_megabyte_body_is_invalid_request(client, own, url):
    application, secret = own
    body = "token=abc&padding=" + "a" * (1024 * 1024)

    response = client.post(url, body, content_type=FORM, **basic(application, secret))

    assert_error(response, 400, "invalid_request")


@pytest.mark.parametrize("url", ENDPOINTS)
@pytest.mark.parametrize(
    "body, content_type",
    [
        (b"token=abc&x=\xff\xfe", FORM),
        (b"token=%FF%FE", FORM),
        (b'{"token": "\xff"}', "application/json"),
    ],
)
def test_bytes_that_are_not_utf8_are_invalid_request(client, own, url, body, content_type):
    application, secret = own

    response = client.post(url, body, content_type=content_type, **basic(application, secret))

    assert_error(response, 400, "invalid_request")


@pytest.mark.parametrize("url", ENDPOINTS)
@pytest.mark.parametrize("body", ['{"token": "\\ud800abc"}', '{"token": "abc", "client_id": "\\udfff"}'])
def test_json_escapes_of_lone_surrogates_are_invalid_request_not_a_500(client, own, url, body):
    application, secret = own

    response = client.post(url, body, content_type="application/json", **basic(application, secret))

    assert_error(response, 400, "invalid_request")


@pytest.mark.parametrize("url", ENDPOINTS)
@pytest.mark.parametrize(
    "body", ['["token", "abc"]', '{"token": ["abc"]}', '{"token": null}', '{"token": 1}', '{"token"']
)
def test_json_that_is_not_an_object_of_strings_is_invalid_request(client, own, url, body):
    application, secret = own

    response = client.post(url, body, content_type="application/json", **basic(application, secret))

    assert_error(response, 400, "invalid_request")


@pytest.mark.parametrize("url", ENDPOINTS)
def test_multipart_and_other_content_types_are_invalid_request(client, own, url):
    application, secret = own
    headers = basic(application, secret)

    assert_error(client.post(url, {"token": "abc"}, **headers), 400, "invalid_request")
    assert_error(client.post(url, "token=abc", content_type="text/plain", **headers), 400, "invalid_request")


@pytest.mark.parametrize("url", ENDPOINTS)
def test_the_token_in_the_query_string_is_invalid_request(client, own, get_token, url):
    application, secret = own
    token = get_token(application, secret)

    response = client.post(f"{url}?token={token}", f"token={token}", content_type=FORM, **basic(application, secret))

    assert_error(response, 400, "invalid_request")
    assert api_status(client, token) == 200


@pytest.mark.parametrize("url", ENDPOINTS)
@pytest.mark.parametrize("method", ["get", "put", "patch", "delete", "options"])
def test_other_methods_get_a_json_405(client, db, url, method):
    response = getattr(client, method)(f"{url}?token=abc")

    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"] == "invalid_request"


@pytest.mark.parametrize("url", ENDPOINTS)
def test_no_csrf_token_is_needed(own, url):
    csrf_client = Client(enforce_csrf_checks=True)

    assert post(csrf_client, url, *own, token="abc").status_code == 200


@pytest.mark.parametrize("url", ENDPOINTS)
def test_a_deleted_applications_credentials_are_rejected_at_once(client, own, url):
    from applications.services import delete_application
    from portal.actors import COMMAND_LINE

    application, secret = own
    assert post(client, url, application, secret, token="abc").status_code == 200

    delete_application(application=application, actor=COMMAND_LINE)

    assert_error(post(client, url, application, secret, token="abc"), 401, "invalid_client")


# --- Both endpoints: brute-force limits shared with the token endpoint ----------------


@pytest.fixture
def small_limits(settings, monkeypatch):
    settings.FAILURE_LIMITS = {
        **settings.FAILURE_LIMITS,
        "TOKEN_PER_CLIENT_ADDRESS": (3, 60),
        "TOKEN_PER_ADDRESS": (6, 60),
    }
    # A clock that stands still, so that no window ends in the middle of a test.
    monkeypatch.setattr("throttle.limits.time.time", lambda: 1_800_000_000.0)


def assert_locked_out(response):
    assert_error(response, 429, "too_many_attempts")
    assert 0 < int(response["Retry-After"]) <= 61


@pytest.mark.parametrize("url", ENDPOINTS)
def test_wrong_secrets_here_lock_the_client_out_of_the_token_endpoint(client, own, small_limits, url):
    application, secret = own

    for _ in range(3):
        assert_error(post(client, url, application, "wrong", token="abc"), 401, "invalid_client")

    assert_locked_out(request_token(client, application, secret))


def test_failures_at_all_three_endpoints_add_up_to_one_limit(client, own, small_limits):
    application, secret = own

    assert request_token(client, application, "wrong").status_code == 401
    assert post(client, REVOKE, application, "wrong", token="abc").status_code == 401
    assert post(client, INTROSPECT, application, "wrong", token="abc").status_code == 401

    for url in ENDPOINTS:
        assert_locked_out(post(client, url, application, secret, token="abc"))
    assert_locked_out(request_token(client, application, secret))


@pytest.mark.parametrize("url", ENDPOINTS)
def test_a_client_locked_out_at_the_token_endpoint_is_locked_out_here_even_with_the_right_secret(
    client, own, get_token, small_limits, url
):
    application, secret = own
    token = get_token(application, secret)
    for _ in range(3):
        request_token(client, application, "wrong")

    assert_locked_out(post(client, url, application, secret, token=token))
    assert api_status(client, token) == 200


@pytest.mark.parametrize("url", ENDPOINTS)
def test_one_address_guessing_many_client_ids_here_is_limited(client, own, small_limits, url):
    application, secret = own

    for n in range(6):
        body = urlencode({"token": "abc", "client_id": f"guess-{n}", "client_secret": "x"})
        response = client.post(url, body, content_type=FORM)
        assert_error(response, 401, "invalid_client")

    assert_locked_out(post(client, url, application, secret, token="abc"))
    assert_locked_out(request_token(client, application, secret))


@pytest.mark.parametrize("url", ENDPOINTS)
def test_well_formed_requests_of_an_authenticated_client_never_count(client, own, small_limits, url):
    application, secret = own

    for _ in range(10):
        assert post(client, url, application, secret, token="unknown").status_code == 200

    assert request_token(client, application, secret).status_code == 200


def test_introspection_reads_the_token_in_one_indexed_query_and_writes_nothing_but_the_limiter(client, own, get_token):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    application, secret = own
    token = get_token(application, secret)
    table = AccessToken._meta.db_table

    with CaptureQueriesContext(connection) as queries:
        assert introspect(client, application, secret, token).json()["active"] is True

    token_reads = [query["sql"] for query in queries.captured_queries if table in query["sql"]]
    assert len(token_reads) == 1, token_reads
    assert "token_checksum" in token_reads[0]
    statements = [query["sql"].lstrip().upper() for query in queries.captured_queries]
    writes = [sql for sql in statements if not sql.startswith("SELECT")]
    assert writes == []
