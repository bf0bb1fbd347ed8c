"""Client assertions (RFC 7523 §2.2) at /oauth/token, /oauth/revoke and /oauth/introspect: contract §10's rules."""

import base64
import json
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone
from oauth2_provider.models import get_access_token_model

from applications.models import IssuedToken, PublicKey
from applications.oauth.validator import record_issued_token
from applications.services import add_key, delete_application, revoke_key, update_application
from applications.tests.key_helpers import claims_for, post_assertion, private_key, public_pem, sign, unsigned
from applications.tests.oauth_helpers import FORM, basic_auth
from portal.actors import COMMAND_LINE
from testing.server import free_port

AccessToken = get_access_token_model()


@pytest.fixture
def keyed(make_application):
    """An application with one public key of the kind asked for: (application, its secret, the key, private key)."""

    def make(kind="ES256", name="Keyed", **kwargs):
        application, secret = make_application(name=name)
        private = private_key(kind, **kwargs)
        key = add_key(application=application, actor=COMMAND_LINE, public_key=public_pem(private))
        return application, secret, key, private

    return make


def token_with(client, application, private, **claims):
    return post_assertion(client, sign(private, claims_for(application.client_id, **claims)))


def assert_invalid_client(response):
    assert response.status_code == 401, response.content
    assert response.json()["error"] == "invalid_client"


def assert_invalid_request(response):
    assert response.status_code == 400, response.content
    assert response.json()["error"] == "invalid_request"


def api_status(client, token):
    return client.get("/api/credentials", HTTP_AUTHORIZATION=f"Bearer {token}").status_code


@pytest.mark.parametrize(
    ("kind", "alg"), [("RS256", "RS256"), ("RS256", "PS256"), ("ES256", "ES256"), ("EdDSA", "EdDSA")]
)
def test_an_assertion_signed_with_each_kind_of_key_gets_a_token_linked_to_the_key(client, keyed, kind, alg):
    application, _, key, private = keyed(kind)

    response = post_assertion(client, sign(private, claims_for(application.client_id), alg=alg))

    assert response.status_code == 200, response.content
    token = response.json()["access_token"]
    assert api_status(client, token) == 200
    issued = IssuedToken.objects.get()
    assert (issued.key_id, issued.secret_id) == (key.pk, None)
    key.refresh_from_db()
    assert key.last_used_at is not None


def test_a_json_body_with_the_client_id_gets_a_token(client, keyed):
    application, _, _, private = keyed()

    response = post_assertion(
        client, sign(private, claims_for(application.client_id)), client_id=application.client_id, as_json=True
    )

    assert response.status_code == 200, response.content


@pytest.mark.parametrize(
    "audience",
    [
        "http://testserver",
        "http://testserver/oauth/token",
        ["https://elsewhere.example", "http://testserver/oauth/token"],
    ],
)
def test_the_audience_may_be_the_issuer_or_the_token_endpoint_or_a_list_holding_one(client, keyed, audience):
    application, _, _, private = keyed()

    assert token_with(client, application, private, audience=audience).status_code == 200


@pytest.mark.parametrize(
    ("name", "claims"),
    [
        ("expired", {"exp": -61}),
        ("exp too far ahead", {"exp": 3600 + 61}),
        ("no exp", {"exp": None}),
        ("no jti", {"jti": None}),
        ("an empty jti", {"jti": ""}),
        ("wrong aud", {"audience": "http://testserver/api"}),
        ("an aud of another server", {"audience": "https://elsewhere.example/oauth/token"}),
        ("no aud", {"audience": None}),
        ("iss other than sub", {"iss": "someone-else"}),
        ("sub other than the client", {"sub": "someone-else"}),
        ("nbf in the future", {"nbf": 120}),
    ],
)
def test_an_assertion_breaking_a_claim_rule_is_invalid_client(client, keyed, frozen_time, name, claims):
    application, _, _, private = keyed()
    now = int(frozen_time[0])
    relative = {key: now + value for key, value in claims.items() if key in ("exp", "nbf") and value is not None}
    claims = {**claims, **relative}

    response = post_assertion(client, sign(private, claims_for(application.client_id, now=now, **claims)))

    assert_invalid_client(response)
    assert not AccessToken.objects.exists()


def test_the_clock_leeway_is_sixty_seconds(client, keyed, frozen_time):
    application, _, _, private = keyed()
    now = int(frozen_time[0])

    assert token_with(client, application, private, now=now, exp=now - 59).status_code == 200
    assert token_with(client, application, private, now=now, exp=now + 3600 + 59).status_code == 200
    assert_invalid_client(token_with(client, application, private, now=now, exp=now - 61))


def test_a_replayed_assertion_is_refused(client, keyed, counter_store):
    application, _, _, private = keyed()
    assertion = sign(private, claims_for(application.client_id))

    assert post_assertion(client, assertion).status_code == 200
    assert_invalid_client(post_assertion(client, assertion))
    # The same jti in a new assertion too: the jti is what is accepted once.
    jti = json.loads(base64.urlsafe_b64decode(assertion.split(".")[1] + "==="))["jti"]
    assert_invalid_client(token_with(client, application, private, jti=jti))


def test_a_jti_is_once_per_client(client, keyed):
    first, _, _, first_private = keyed(name="First")
    second, _, _, second_private = keyed(name="Second")

    assert token_with(client, first, first_private, jti="shared").status_code == 200
    assert token_with(client, second, second_private, jti="shared").status_code == 200


def test_a_refused_assertion_does_not_use_up_its_jti(client, keyed):
    application, _, _, private = keyed()

    assert_invalid_client(token_with(client, application, private, jti="j-1", audience="http://wrong"))

    assert token_with(client, application, private, jti="j-1").status_code == 200


def test_a_client_id_other_than_the_assertions_is_invalid_client(client, keyed):
    application, _, _, private = keyed()
    other, _, _, _ = keyed(name="Other")

    response = post_assertion(client, sign(private, claims_for(application.client_id)), client_id=other.client_id)

    assert_invalid_client(response)


def test_alg_none_is_invalid_client(client, keyed):
    application, _, _, _ = keyed()

    assert_invalid_client(post_assertion(client, unsigned(claims_for(application.client_id), {"alg": "none"})))


def test_hs256_keyed_with_the_public_keys_pem_is_invalid_client(client, keyed):
    application, _, key, _ = keyed()
    forged = unsigned(claims_for(application.client_id), {"alg": "HS256", "hmac_key": key.public_key.encode()})

    assert_invalid_client(post_assertion(client, forged))
    assert_invalid_client(post_assertion(client, forged.replace(".", ".", 1), client_id=application.client_id))


def test_an_rs256_header_on_an_ec_key_is_invalid_client(client, keyed):
    application, _, key, private = keyed("ES256")
    rsa_private = private_key("RS256")
    # A real RS256 signature, by a key the application does not have, under the EC key's kid.
    assertion = sign(rsa_private, claims_for(application.client_id), kid=key.kid)

    assert_invalid_client(post_assertion(client, assertion))


def test_an_unknown_kid_is_invalid_client(client, keyed):
    application, _, _, private = keyed()

    assert_invalid_client(post_assertion(client, sign(private, claims_for(application.client_id), kid="unknown")))


def test_a_kid_picks_the_key_and_without_one_each_live_key_is_tried(client, keyed):
    application, _, first, first_private = keyed()
    second_private = private_key("RS256")
    second = add_key(application=application, actor=COMMAND_LINE, public_key=public_pem(second_private))

    assert post_assertion(client, sign(second_private, claims_for(application.client_id))).status_code == 200
    assert (
        post_assertion(client, sign(first_private, claims_for(application.client_id), kid=first.kid)).status_code == 200
    )
    # The right kid, signed by another key of the application: the kid decides which key verifies.
    assert_invalid_client(
        post_assertion(client, sign(second_private, claims_for(application.client_id), kid=first.kid))
    )
    assert IssuedToken.objects.filter(key=second).count() == 1


def test_a_signature_by_a_key_the_application_does_not_have_is_invalid_client(client, keyed):
    application, _, _, _ = keyed()

    assert_invalid_client(post_assertion(client, sign(private_key(), claims_for(application.client_id))))


def test_a_revoked_key_is_invalid_client_from_the_next_request_and_its_tokens_end(client, keyed):
    application, _, key, private = keyed()
    token = token_with(client, application, private).json()["access_token"]

    revoke_key(key=key, actor=COMMAND_LINE)

    assert_invalid_client(token_with(client, application, private))
    assert api_status(client, token) == 401


def test_revoking_a_key_without_its_tokens_lets_them_live(client, keyed):
    application, _, key, private = keyed()
    token = token_with(client, application, private).json()["access_token"]

    revoke_key(key=key, actor=COMMAND_LINE, revoke_tokens=False)

    assert api_status(client, token) == 200


def test_an_expired_key_is_invalid_client(client, keyed):
    application, _, key, private = keyed()
    PublicKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    assert_invalid_client(token_with(client, application, private))


def test_a_deleted_applications_assertions_are_invalid_client(client, keyed):
    application, _, _, private = keyed()
    client_id = application.client_id
    delete_application(application=application, actor=COMMAND_LINE)

    assert_invalid_client(post_assertion(client, sign(private, claims_for(client_id))))


def test_a_suspended_applications_assertions_are_invalid_client_and_spend_no_jti(client, keyed):
    application, _, _, private = keyed()
    token = token_with(client, application, private).json()["access_token"]
    claims = claims_for(application.client_id)
    update_application(application=application, actor=COMMAND_LINE, suspended=True)

    assert_invalid_client(post_assertion(client, sign(private, claims)))
    assert api_status(client, token) == 401

    update_application(application=application, actor=COMMAND_LINE, suspended=False)
    # The refusal came before the signature was checked: the same jti is still unspent.
    assert post_assertion(client, sign(private, claims)).status_code == 200
    assert api_status(client, token) == 200


def test_an_assertion_from_outside_the_allowed_networks_is_invalid_client(client, keyed):
    application, _, key, private = keyed()
    update_application(application=application, actor=COMMAND_LINE, allowed_networks=["192.0.2.0/24"])

    assert_invalid_client(token_with(client, application, private))

    update_application(application=application, actor=COMMAND_LINE, allowed_networks=["127.0.0.0/8"])
    assert token_with(client, application, private).status_code == 200
    key.refresh_from_db()
    assert (key.last_used_address, key.last_used_at is not None) == ("127.0.0.1", True)


def test_a_token_is_not_recorded_for_a_key_revoked_meanwhile(client, keyed):
    application, _, key, private = keyed()
    token = token_with(client, application, private).json()["access_token"]
    row = AccessToken.objects.get()
    IssuedToken.objects.all().delete()
    PublicKey.objects.filter(pk=key.pk).update(revoked_at=timezone.now())
    key.refresh_from_db()

    assert record_issued_token(row.pk, key) is False
    assert api_status(client, token) == 200  # the grant's own path deletes the token; here only the record is refused


def test_a_token_record_names_exactly_one_credential(keyed, client):
    application, _, key, private = keyed()
    token_with(client, application, private)
    issued = IssuedToken.objects.get()

    with pytest.raises(IntegrityError), transaction.atomic():
        IssuedToken.objects.filter(pk=issued.pk).update(secret=application.secrets.get())
    with pytest.raises(IntegrityError), transaction.atomic():
        IssuedToken.objects.filter(pk=issued.pk).update(key=None)


# --- One method per request ------------------------------------------------------------------------------------------


def test_an_assertion_with_basic_is_invalid_request(client, keyed):
    application, secret, _, private = keyed()
    headers = {"HTTP_AUTHORIZATION": basic_auth(application.client_id, secret)}

    assert_invalid_request(post_assertion(client, sign(private, claims_for(application.client_id)), headers=headers))
    assert not AccessToken.objects.exists()


def test_an_assertion_with_a_client_secret_is_invalid_request(client, keyed):
    application, secret, _, private = keyed()

    response = post_assertion(client, sign(private, claims_for(application.client_id)), client_secret=secret)

    assert_invalid_request(response)


def test_an_unknown_assertion_type_is_invalid_request(client, keyed):
    application, _, _, private = keyed()
    assertion = sign(private, claims_for(application.client_id))

    response = post_assertion(
        client, assertion, client_assertion_type="urn:ietf:params:oauth:client-assertion-type:saml2-bearer"
    )

    assert_invalid_request(response)


def test_an_assertion_type_without_an_assertion_is_invalid_request(client, keyed):
    application, _, _, _ = keyed()
    body = {"grant_type": "client_credentials", "client_id": application.client_id, "client_assertion_type": "x"}

    assert_invalid_request(client.post("/oauth/token", urlencode(body), content_type=FORM))


def test_a_repeated_client_assertion_is_invalid_request(client, keyed):
    application, _, _, private = keyed()
    assertion = sign(private, claims_for(application.client_id))
    body = urlencode(
        [
            ("grant_type", "client_credentials"),
            ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
            ("client_assertion", "x.y.z"),
            ("client_assertion", assertion),
        ]
    )

    assert_invalid_request(client.post("/oauth/token", body, content_type=FORM))


NESTED = base64.urlsafe_b64encode(b"[" * 5000).rstrip(b"=").decode()


@pytest.mark.parametrize(
    "assertion",
    ["", "not-a-jwt", "a.b", "a.b.c.d.e", "x" * 9000, "e30.e30.AAAA", f"{NESTED}.e30.AAAA", f"e30.{NESTED}.AAAA"],
)
def test_an_unreadable_assertion_is_invalid_client(client, keyed, assertion):
    application, _, _, _ = keyed()

    assert_invalid_client(post_assertion(client, assertion, client_id=application.client_id))


# --- Revocation and introspection ------------------------------------------------------------------------------------


def test_introspection_and_revocation_authenticate_with_assertions(client, keyed):
    application, _, _, private = keyed()
    token = token_with(client, application, private).json()["access_token"]

    introspected = post_assertion(
        client,
        sign(private, claims_for(application.client_id, audience="http://testserver/oauth/introspect")),
        path="/oauth/introspect",
        token=token,
    )
    revoked = post_assertion(
        client,
        sign(private, claims_for(application.client_id, audience="http://testserver/oauth/revoke")),
        path="/oauth/revoke",
        token=token,
    )

    assert introspected.status_code == 200, introspected.content
    assert introspected.json()["active"] is True
    assert introspected.json()["client_id"] == application.client_id
    assert revoked.status_code == 200, revoked.content
    assert api_status(client, token) == 401


def test_an_assertion_for_the_revocation_endpoint_is_refused_at_introspection(client, keyed):
    application, _, _, private = keyed()

    response = post_assertion(
        client,
        sign(private, claims_for(application.client_id, audience="http://testserver/oauth/revoke")),
        path="/oauth/introspect",
        token="abc",
    )

    assert_invalid_client(response)


# --- Brute-force limits and a store that is away --------------------------------------------------------------------


@pytest.fixture
def small_limits(settings):
    settings.FAILURE_LIMITS = {
        **settings.FAILURE_LIMITS,
        "TOKEN_PER_CLIENT_ADDRESS": (3, 60),
        "TOKEN_PER_ADDRESS": (50, 60),
    }


@pytest.mark.parametrize("named_by", ["client_id", "unverified sub"])
def test_refused_assertions_count_against_the_client_the_request_names(
    client, keyed, small_limits, frozen_time, counter_store, named_by
):
    application, secret, _, private = keyed()
    client_id = application.client_id if named_by == "client_id" else None
    for _ in range(3):
        expired = sign(private_key(), claims_for(application.client_id, exp=int(frozen_time[0]) - 100))
        assert_invalid_client(post_assertion(client, expired, client_id=client_id))

    locked = token_with(client, application, private)

    assert locked.status_code == 429
    assert locked.json()["error"] == "too_many_attempts"
    from_basic = client.post(
        "/oauth/token",
        "grant_type=client_credentials",
        content_type=FORM,
        HTTP_AUTHORIZATION=basic_auth(application.client_id, secret),
    )
    assert from_basic.status_code == 429


def test_with_the_replay_store_away_an_assertion_gets_503_and_no_token(client, keyed, settings):
    application, secret, _, private = keyed()
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
        }
    }

    response = token_with(client, application, private)

    assert response.status_code == 503
    assert response.json()["error"] == "temporarily_unavailable"
    assert response["Retry-After"] == "2"
    assert not AccessToken.objects.exists()
    # Secrets go on without the store (contract §8).
    basic = client.post(
        "/oauth/token",
        "grant_type=client_credentials",
        content_type=FORM,
        HTTP_AUTHORIZATION=basic_auth(application.client_id, secret),
    )
    assert basic.status_code == 200


def test_an_assertion_nested_past_the_json_parsers_depth_is_invalid_client_without_a_client_id(client, db):
    assert_invalid_client(post_assertion(client, f"e30.{NESTED}.AAAA"))
    assert_invalid_client(post_assertion(client, f"{NESTED}.{NESTED}.AAAA"))


@pytest.mark.parametrize("header", [{"crit": 5}, {"crit": ["exp"], "exp": 1}, {"b64": "no"}, {"jwk": {"kty": "oct"}}])
def test_odd_headers_are_invalid_client_never_a_server_error(client, keyed, header):
    application, _, key, _ = keyed()

    response = post_assertion(client, unsigned(claims_for(application.client_id), {"alg": "ES256", **header}) + "AAAA")

    assert_invalid_client(response)
