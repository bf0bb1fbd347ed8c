"""Property-based hostile input: whatever arrives, never a 5xx, never HTML from the API,
never a secret echoed back."""

import base64
import json

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from applications.services import add_federated_credential
from applications.tests.issuer_helpers import SUBJECT
from applications.tests.key_helpers import post_assertion
from applications.tests.oauth_helpers import basic_auth
from portal.actors import COMMAND_LINE

EXAMPLES = hypothesis_settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

CONTENT_TYPES = st.sampled_from(
    [
        "application/x-www-form-urlencoded",
        "application/json",
        "application/json; charset=latin-1",
        "multipart/form-data; boundary=xyz",
        "multipart/form-data",
        "text/plain",
        "application/xml",
        "",
        "application/x-www-form-urlencoded; charset=utf-16",
    ]
)
TEXT = st.text(st.characters(blacklist_categories=["Cs"]), max_size=300)
# Lone surrogates too: JSON can spell them (\ud800), and form encoding as their UTF-8-like bytes.
SURROGATE = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
TEXT_WITH_SURROGATES = st.one_of(TEXT, st.tuples(TEXT, SURROGATE, TEXT).map("".join))
HEADER_VALUES = st.one_of(
    TEXT.map(lambda value: value.encode("utf-8", "ignore").decode("latin-1")),
    st.sampled_from(["Basic", "Basic ===", "Bearer", "Bearer  x", "Basic Og==", "Digest x"]),
    st.binary(max_size=60).map(lambda raw: "Basic " + raw.hex()),
)
TOKEN_KEYS = st.sampled_from(
    [
        "grant_type",
        "scope",
        "client_id",
        "client_secret",
        "client_assertion_type",
        "client_assertion",
        "audience",
        "resource",
        "device_code",
        "code",
    ]
)
# Pieces of a client assertion: base64url of JSON headers a JOSE library could trip on, joined by dots.
JWT_PARTS = st.sampled_from(["e30", "eyJhbGciOiJub25lIn0", "eyJhbGciOiJFUzI1NiIsImNyaXQiOjV9", "W1tbW1s", "", "x"])
ASSERTIONS = st.lists(JWT_PARTS, min_size=1, max_size=5).map(".".join)
TOKEN_VALUES = st.one_of(
    st.sampled_from(
        [
            "client_credentials",
            "password",
            "authorization_code",
            "urn:ietf:params:oauth:grant-type:device_code",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        ]
    ),
    ASSERTIONS,
    TEXT_WITH_SURROGATES,
    st.text(alphabet="read:credentials create:applications \t", min_size=1000, max_size=5000),
)


@pytest.fixture
def app_and_secret(make_application, settings):
    # Lockouts are a fine answer, but they would hide every later path from the search.
    settings.FAILURE_LIMITS = {
        **settings.FAILURE_LIMITS,
        "TOKEN_PER_CLIENT_ADDRESS": (10**9, 60),
        "TOKEN_PER_ADDRESS": (10**9, 60),
    }
    return make_application(scopes=["read:credentials", "create:credentials"])


def assert_json_error_without_secrets(response, secret):
    assert response.status_code < 500, response.content[:500]
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    assert secret.encode() not in response.content


@EXAMPLES
@given(body=st.binary(max_size=2000), content_type=CONTENT_TYPES, authorization=HEADER_VALUES)
def test_token_endpoint_survives_random_bytes(client, app_and_secret, body, content_type, authorization):
    _, secret = app_and_secret

    response = client.generic("POST", "/oauth/token", body, content_type=content_type, HTTP_AUTHORIZATION=authorization)

    assert_json_error_without_secrets(response, secret)
    assert response.status_code in (400, 401)


@EXAMPLES
@given(
    params=st.lists(st.tuples(TOKEN_KEYS, TOKEN_VALUES), max_size=8),
    as_json=st.booleans(),
    with_basic=st.booleans(),
)
def test_token_endpoint_survives_random_parameters(client, app_and_secret, params, as_json, with_basic):
    application, secret = app_and_secret
    extra = {"HTTP_AUTHORIZATION": basic_auth(application.client_id, secret)} if with_basic else {}
    if as_json:
        body, content_type = json.dumps(dict(params)), "application/json"
    else:
        from urllib.parse import urlencode

        body, content_type = urlencode(params, errors="surrogatepass"), "application/x-www-form-urlencoded"

    response = client.post("/oauth/token", body, content_type=content_type, **extra)

    assert response.status_code < 500, response.content[:500]
    assert response["Content-Type"] == "application/json"
    if response.status_code == 200:
        assert set(response.json()["scope"].split()) <= set(application.scope_list)
    else:
        assert secret.encode() not in response.content


@EXAMPLES
@given(method=st.sampled_from(["GET", "POST"]), query=TEXT)
def test_token_endpoint_query_strings_and_methods(client, app_and_secret, method, query):
    _, secret = app_and_secret

    response = client.generic(method, "/oauth/token?" + query, "grant_type=client_credentials")

    assert_json_error_without_secrets(response, secret)


OAUTH_CLIENT_ENDPOINTS = st.sampled_from(["/oauth/revoke", "/oauth/introspect"])
CLIENT_TOKEN_KEYS = st.sampled_from(["token", "token_type_hint", "client_id", "client_secret", "grant_type", "scope"])
# Lone surrogates too: json.dumps writes them as \\ud800 escapes, which JSON bodies may carry.
ANY_TEXT = st.text(max_size=300)


@EXAMPLES
@given(
    url=OAUTH_CLIENT_ENDPOINTS, body=st.binary(max_size=2000), content_type=CONTENT_TYPES, authorization=HEADER_VALUES
)
def test_revocation_and_introspection_survive_random_bytes(
    client, app_and_secret, url, body, content_type, authorization
):
    _, secret = app_and_secret

    response = client.generic("POST", url, body, content_type=content_type, HTTP_AUTHORIZATION=authorization)

    assert_json_error_without_secrets(response, secret)
    assert response.status_code in (400, 401)
    assert "no-store" in response["Cache-Control"]


@pytest.fixture
def tokens(app_and_secret, make_application, get_token):
    """The application's own token, and a token of another application that must survive everything."""
    application, secret = app_and_secret
    other, other_secret = make_application(name="Bystander", scopes=["read:credentials"])
    return get_token(application, secret), get_token(other, other_secret), other


@EXAMPLES
@given(
    url=OAUTH_CLIENT_ENDPOINTS,
    params=st.lists(
        st.tuples(
            CLIENT_TOKEN_KEYS, st.one_of(ANY_TEXT, st.sampled_from(["OWN", "OTHER", "access_token", "refresh_token"]))
        ),
        max_size=6,
    ),
    as_json=st.booleans(),
    with_basic=st.booleans(),
)
def test_revocation_and_introspection_survive_random_parameters(
    client, app_and_secret, tokens, url, params, as_json, with_basic
):
    from urllib.parse import urlencode

    application, secret = app_and_secret
    own_token, other_token, other = tokens
    params = [(key, {"OWN": own_token, "OTHER": other_token}.get(value, value)) for key, value in params]
    extra = {"HTTP_AUTHORIZATION": basic_auth(application.client_id, secret)} if with_basic else {}
    if as_json:
        body, content_type = json.dumps(dict(params)), "application/json"
    else:
        body = urlencode([(key, value.encode("utf-8", "surrogatepass")) for key, value in params])
        content_type = "application/x-www-form-urlencoded"

    response = client.post(url, body, content_type=content_type, **extra)

    assert response.status_code < 500, response.content[:500]
    assert response["Content-Type"] == "application/json"
    assert "no-store" in response["Cache-Control"]
    assert secret.encode() not in response.content
    assert other_token.encode() not in response.content
    if url == "/oauth/introspect" and response.status_code == 200 and response.json()["active"]:
        assert response.json()["client_id"] == application.client_id
    # Whatever was sent, the other application's token is neither revealed nor revoked.
    api = client.get("/api/credentials", HTTP_AUTHORIZATION=f"Bearer {other_token}")
    assert api.status_code == 200


API_PATHS = st.one_of(
    st.sampled_from(
        [
            "/api/credentials",
            "/api/credentials/00000000-0000-0000-0000-000000000000",
            "/api/applications",
            "/api/organization",
            "/api/credentials/",
            "/api/nope",
        ]
    ),
    TEXT.map(lambda tail: "/api/" + "".join(ch for ch in tail if ch.isprintable() and ch not in "?#")),
)


@pytest.fixture
def api_token(app_and_secret, get_token):
    application, secret = app_and_secret
    return get_token(application, secret)


@EXAMPLES
@given(
    method=st.sampled_from(["GET", "POST", "PATCH", "PUT", "DELETE", "OPTIONS", "HEAD", "TRACE"]),
    path=API_PATHS,
    body=st.one_of(
        st.binary(max_size=500),
        st.dictionaries(TEXT, st.one_of(TEXT, st.integers(), st.none()), max_size=4).map(
            lambda d: json.dumps(d).encode()
        ),
    ),
    content_type=CONTENT_TYPES,
    authorization=st.one_of(st.none(), HEADER_VALUES, st.just("valid")),
)
def test_api_never_fails_or_answers_html(
    client, app_and_secret, api_token, method, path, body, content_type, authorization
):
    _, secret = app_and_secret
    headers = {}
    if authorization == "valid":
        headers["HTTP_AUTHORIZATION"] = f"Bearer {api_token}"
    elif authorization is not None:
        headers["HTTP_AUTHORIZATION"] = authorization

    response = client.generic(method, path, body, content_type=content_type, **headers)

    assert response.status_code < 500, (method, path, response.content[:500])
    if response.content and method != "HEAD":
        assert response["Content-Type"].startswith("application/json"), (method, path, response["Content-Type"])
        assert b"<html" not in response.content.lower()
    assert secret.encode() not in response.content
    assert api_token.encode() not in response.content


@pytest.fixture
def existing_application(make_application):
    return make_application(name="Existing")[0]


@EXAMPLES
@given(
    fields=st.dictionaries(
        st.sampled_from(["name", "description", "scopes", "form_token", "csrfmiddlewaretoken", "x"]),
        st.one_of(TEXT, st.lists(TEXT, max_size=3)),
        max_size=5,
    )
)
def test_portal_forms_never_fail(client, admin_user, existing_application, fields):
    client.force_login(admin_user)
    application = existing_application

    for url in ("/integrations/applications/new/", f"/integrations/applications/{application.public_id}/"):
        response = client.post(url, fields)
        assert response.status_code < 500, (url, fields, response.content[:500])


@EXAMPLES
@given(
    next_url=st.one_of(
        TEXT_WITH_SURROGATES,
        st.sampled_from(
            ["/accounts/login/", "/accounts/login/?next=/accounts/login/", "//accounts/login/", "/accounts/login"]
        ),
        TEXT.map(lambda tail: "/accounts/login/" + tail),
    )
)
def test_the_sign_in_page_never_fails_for_a_signed_in_user(client, admin_user, next_url):
    from urllib.parse import quote

    client.force_login(admin_user)

    response = client.get("/accounts/login/?next=" + quote(next_url, safe="", errors="surrogatepass"))

    assert response.status_code == 302, (next_url, response.status_code)


# A workload's token as its issuer signs it, with claims of any JSON type where strings and numbers belong.
JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False), TEXT),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(TEXT, inner, max_size=3)),
    max_leaves=6,
)


@pytest.fixture
def federated_application(make_application, issuer, settings):
    settings.FAILURE_LIMITS = {
        **settings.FAILURE_LIMITS,
        "TOKEN_PER_CLIENT_ADDRESS": (10**9, 60),
        "TOKEN_PER_ADDRESS": (10**9, 60),
    }
    application, _ = make_application(name="Federated")
    credential = add_federated_credential(
        application=application,
        actor=COMMAND_LINE,
        name="CI",
        issuer=issuer.url,
        subject=SUBJECT,
        audience="http://testserver",
    )
    return application, credential


def signed_by(private, header: dict, claims: dict) -> str:
    """A compact JWS signed with RS256 by `private`, whatever the header and claims hold (joserfc would refuse some)."""

    def part(value) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    signing_input = f"{part(header)}.{part(claims)}"
    signature = private.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"


@EXAMPLES
@given(
    claims=st.dictionaries(st.sampled_from(["iss", "sub", "aud", "exp", "nbf", "iat", "jti"]), JSON_VALUES, max_size=7),
    kid=st.one_of(st.none(), TEXT, st.integers()),
    path=st.sampled_from(["/oauth/token", "/oauth/introspect"]),
)
def test_workload_tokens_with_odd_claims_never_fail(client, federated_application, issuer, claims, kid, path):
    application, _ = federated_application
    signing_kid, private = issuer.signing[-1]
    # Signed by the issuer's own key: every rule gets its say, the signature's included.
    header = {"alg": "RS256", "kid": signing_kid if kid is None else kid}
    token = signed_by(private, header, {**issuer.claims("http://testserver"), **claims})

    response = post_assertion(client, token, path=path, client_id=application.client_id, token="x")

    assert response.status_code in (200, 400, 401), response.content[:500]
    assert response["Content-Type"] == "application/json"


@EXAMPLES
@given(
    token=st.one_of(TEXT, ASSERTIONS),
    fields=st.dictionaries(st.sampled_from(["name", "issuer", "subject", "audience"]), TEXT, max_size=4),
)
def test_federated_credential_pages_never_fail(client, admin_user, federated_application, token, fields):
    application, credential = federated_application
    client.force_login(admin_user)
    base = f"/integrations/applications/{application.public_id}/federated-credentials"

    tested = client.post(f"{base}/{credential.public_id}/test/", {"token": token})
    # No issuer URL a text strategy writes is fetched: only https ones at public addresses, or the local one.
    added = client.post(f"{base}/new/", {**fields, "issuer": fields.get("issuer", "not a url")})

    assert tested.status_code == 200, tested.content[:500]
    assert added.status_code < 500, added.content[:500]
