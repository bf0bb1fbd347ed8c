"""Federated credentials (contract §10): a workload's token from an OpenID Connect issuer, traded at the three OAuth
endpoints; the local issuer stands in for GitHub Actions' (the `issuer` fixture)."""

import base64
import json
from urllib.parse import urlencode

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from oauth2_provider.models import get_access_token_model

from applications.models import AuditEvent, FederatedCredential, IssuedToken
from applications.oauth.validator import record_issued_token
from applications.services import (
    MAX_FEDERATED_CREDENTIALS,
    DuplicateFederatedCredential,
    FederatedCredentialLimitReached,
    LastLiveCredential,
    add_federated_credential,
    add_key,
    revoke_federated_credential,
    revoke_key,
    revoke_secret,
    update_application,
)
from applications.tests.issuer_helpers import SUBJECT
from applications.tests.key_helpers import claims_for, post_assertion, private_key, public_pem, sign
from applications.tests.oauth_helpers import FORM, basic_auth
from portal.actors import COMMAND_LINE, Actor, ScopeEscalation
from testing.server import free_port

AccessToken = get_access_token_model()
AUDIENCE = "http://testserver"


@pytest.fixture
def federated(make_application, issuer):
    """An application trusting the local issuer's tokens for SUBJECT and AUDIENCE: (application, its secret,
    the federated credential)."""

    def make(name="Deploy", **fields):
        application, secret = make_application(name=name)
        credential = add(application, issuer, **fields)
        return application, secret, credential

    return make


def add(application, local, actor=COMMAND_LINE, **fields):
    fields = {"name": "CI on main", "issuer": local.url, "subject": SUBJECT, "audience": AUDIENCE, **fields}
    return add_federated_credential(application=application, actor=actor, **fields)


def trade(client, application, workload_token, *, as_json=False, path="/oauth/token", **fields):
    """The workload's token as the client assertion, the application named by client_id (as §10 requires)."""
    return post_assertion(client, workload_token, path=path, client_id=application.client_id, as_json=as_json, **fields)


def assert_invalid_client(response):
    assert response.status_code == 401, response.content
    assert response.json()["error"] == "invalid_client"


def api_status(client, token):
    return client.get("/api/credentials", HTTP_AUTHORIZATION=f"Bearer {token}").status_code


# --- Trading a workload's token --------------------------------------------------------------------------------------


@pytest.mark.parametrize("as_json", [False, True], ids=["form", "JSON"])
def test_a_workload_token_gets_an_access_token_linked_to_the_credential(client, federated, issuer, as_json):
    application, _, credential = federated()

    response = trade(client, application, issuer.token(AUDIENCE), as_json=as_json)

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["token_type"], body["expires_in"], body["scope"]) == ("Bearer", 3600, application.scopes)
    assert api_status(client, body["access_token"]) == 200
    issued = IssuedToken.objects.get()
    assert (issued.federated_credential_id, issued.secret_id, issued.key_id) == (credential.pk, None, None)
    credential.refresh_from_db()
    assert credential.last_used_at is not None


@pytest.mark.parametrize("kind", ["ES256", "EdDSA"])
def test_issuers_signing_with_ec_and_ed25519_keys_are_taken_too(client, make_application, issuer, kind):
    issuer.rotate(kind, keep_old=False)
    application, _ = make_application()
    add(application, issuer)

    assert trade(client, application, issuer.token(AUDIENCE)).status_code == 200


def test_an_audience_list_holding_the_credentials_audience_is_taken(client, federated, issuer):
    application, _, _ = federated()

    token = issuer.token(["https://elsewhere.example", AUDIENCE])

    assert trade(client, application, token).status_code == 200


@pytest.mark.parametrize(
    ("name", "claims"),
    [
        ("wrong issuer", {"iss": "https://token.actions.githubusercontent.com"}),
        ("issuer with a trailing slash", {"iss": "{issuer}/"}),
        ("no issuer", {"iss": None}),
        ("wrong subject", {"sub": "repo:octo-org/octo-repo:ref:refs/heads/feature"}),
        ("subject of another repository", {"sub": "repo:octo-org/octo-repo-fork:ref:refs/heads/main"}),
        ("subject that only starts like it", {"sub": SUBJECT + "-evil"}),
        ("no subject", {"sub": None}),
        ("wrong audience", {"aud": "http://testserver/api"}),
        ("audience list without it", {"aud": ["https://a.example", "https://b.example"]}),
        ("no audience", {"aud": None}),
        ("expired", {"exp": -61}),
        ("no expiry", {"exp": None}),
        ("not valid yet", {"nbf": 120}),
        ("issued in the future", {"iat": 120}),
        ("exp not a number", {"exp": "tomorrow"}),
        ("jti not a string", {"jti": 42}),
        ("empty jti", {"jti": ""}),
    ],
)
def test_a_token_breaking_a_rule_is_invalid_client_and_issues_nothing(
    client, federated, issuer, frozen_time, name, claims
):
    application, _, _ = federated()
    now = int(frozen_time[0])
    claims = {
        key: (now + value if key in ("exp", "nbf", "iat") and isinstance(value, int) else value)
        for key, value in claims.items()
    }
    if claims.get("iss") == "{issuer}/":
        claims["iss"] = issuer.url + "/"
    audience = claims.pop("aud", AUDIENCE)

    response = trade(client, application, issuer.token(audience, now=now, **claims))

    assert_invalid_client(response)
    assert not AccessToken.objects.exists()


def test_the_clock_leeway_is_sixty_seconds(client, federated, issuer, frozen_time):
    application, _, _ = federated()
    now = int(frozen_time[0])

    assert trade(client, application, issuer.token(AUDIENCE, now=now, exp=now - 59)).status_code == 200
    assert trade(client, application, issuer.token(AUDIENCE, now=now, nbf=now + 59)).status_code == 200
    assert_invalid_client(trade(client, application, issuer.token(AUDIENCE, now=now, exp=now - 61)))


def test_a_token_without_a_jti_is_taken(client, federated, issuer):
    application, _, _ = federated()

    assert trade(client, application, issuer.token(AUDIENCE, jti=None)).status_code == 200


def test_a_replayed_token_is_refused_here_and_at_another_application(client, federated, issuer, counter_store):
    application, _, _ = federated()
    other, _, _ = federated(name="Other")
    token = issuer.token(AUDIENCE)

    assert trade(client, application, token).status_code == 200
    assert_invalid_client(trade(client, application, token))
    # Accepted once per issuer, whichever application it is traded at.
    assert_invalid_client(trade(client, other, token))
    # Another token with the same jti is the same token to the store.
    jti = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "==="))["jti"]
    assert_invalid_client(trade(client, application, issuer.token(AUDIENCE, jti=jti)))


def test_a_refused_token_does_not_use_up_its_jti(client, federated, issuer):
    application, _, _ = federated()

    assert_invalid_client(trade(client, application, issuer.token("http://wrong", jti="j-1")))

    assert trade(client, application, issuer.token(AUDIENCE, jti="j-1")).status_code == 200


def test_a_token_signed_by_a_key_the_issuer_does_not_publish_is_invalid_client(client, federated, issuer):
    application, _, _ = federated()
    stranger = private_key("RS256")
    kid = issuer.signing[-1][0]

    under_its_kid = sign(stranger, issuer.claims(AUDIENCE), kid=kid)
    without_kid = sign(stranger, issuer.claims(AUDIENCE))
    unknown_kid = sign(stranger, issuer.claims(AUDIENCE), kid="not-published")

    for token in (under_its_kid, without_kid, unknown_kid):
        assert_invalid_client(trade(client, application, token))
    assert not AccessToken.objects.exists()


def test_a_token_without_a_kid_is_tried_against_every_published_key(client, federated, issuer):
    issuer.rotate("ES256")
    issuer.rotate("RS256")
    application, _, _ = federated()

    assert trade(client, application, issuer.token(AUDIENCE, kid="")).status_code == 200


@pytest.mark.parametrize(
    "header",
    [{"alg": "none"}, {"alg": "HS256"}, {"alg": "ES256"}, {"alg": "RS256", "crit": ["exp"]}],
    ids=["none", "HS256", "an EC algorithm on an RSA key", "crit"],
)
def test_algorithms_outside_the_keys_family_are_invalid_client(client, federated, issuer, header):
    application, _, _ = federated()
    kid, _ = issuer.signing[-1]
    genuine = issuer.token(AUDIENCE)
    _, claims, signature = genuine.split(".")
    forged_header = base64.urlsafe_b64encode(json.dumps({**header, "kid": kid}).encode()).rstrip(b"=").decode()

    assert_invalid_client(trade(client, application, f"{forged_header}.{claims}.{signature}"))
    assert_invalid_client(trade(client, application, f"{forged_header}.{claims}."))


def test_without_client_id_a_workload_token_is_invalid_client(client, federated, issuer):
    application, _, _ = federated()

    response = post_assertion(client, issuer.token(AUDIENCE))

    assert_invalid_client(response)
    assert not AccessToken.objects.exists()


def test_a_token_traded_at_an_application_that_does_not_trust_it_is_invalid_client(
    client, federated, make_application, issuer
):
    federated()
    stranger, _ = make_application(name="Stranger")

    assert_invalid_client(trade(client, stranger, issuer.token(AUDIENCE)))


def test_a_key_assertion_still_goes_to_the_keys(client, federated):
    application, _, _ = federated()
    private = private_key()
    add_key(application=application, actor=COMMAND_LINE, public_key=public_pem(private))

    response = post_assertion(client, sign(private, claims_for(application.client_id)), client_id=application.client_id)

    assert response.status_code == 200, response.content
    assert IssuedToken.objects.get().key_id is not None


def test_a_suspended_application_is_invalid_client_for_workload_tokens_and_spends_no_jti(client, federated, issuer):
    application, _, _ = federated()
    access_token = trade(client, application, issuer.token(AUDIENCE)).json()["access_token"]
    update_application(application=application, actor=COMMAND_LINE, suspended=True)

    assert_invalid_client(trade(client, application, issuer.token(AUDIENCE, jti="while-suspended")))
    assert api_status(client, access_token) == 401

    update_application(application=application, actor=COMMAND_LINE, suspended=False)
    # Refused before the workload's token was verified: its jti is still unspent.
    assert trade(client, application, issuer.token(AUDIENCE, jti="while-suspended")).status_code == 200
    assert api_status(client, access_token) == 200


def test_a_workload_token_from_outside_the_allowed_networks_is_invalid_client(client, federated, issuer):
    application, _, credential = federated()
    update_application(application=application, actor=COMMAND_LINE, allowed_networks=["192.0.2.0/24"])

    assert_invalid_client(trade(client, application, issuer.token(AUDIENCE, jti="from-outside")))
    credential.refresh_from_db()
    assert (credential.last_used_at, credential.last_used_address) == (None, None)

    update_application(application=application, actor=COMMAND_LINE, allowed_networks=["127.0.0.0/8"])
    assert trade(client, application, issuer.token(AUDIENCE, jti="from-outside")).status_code == 200
    credential.refresh_from_db()
    assert (credential.last_used_address, credential.last_used_at is not None) == ("127.0.0.1", True)


def test_a_revoked_credential_fails_from_the_next_request_and_its_tokens_end(client, federated, issuer):
    application, _, credential = federated()
    access_token = trade(client, application, issuer.token(AUDIENCE)).json()["access_token"]

    assert revoke_federated_credential(credential=credential, actor=COMMAND_LINE) == 1

    assert_invalid_client(trade(client, application, issuer.token(AUDIENCE)))
    assert api_status(client, access_token) == 401
    event = AuditEvent.objects.get(action=AuditEvent.Action.FEDERATED_REVOKED)
    assert event.changes == {"federated_credential": "CI on main", "tokens_revoked": 1}


def test_revoking_without_its_tokens_lets_them_live(client, federated, issuer):
    application, _, credential = federated()
    access_token = trade(client, application, issuer.token(AUDIENCE)).json()["access_token"]

    assert revoke_federated_credential(credential=credential, actor=COMMAND_LINE, revoke_tokens=False) == 0

    assert_invalid_client(trade(client, application, issuer.token(AUDIENCE)))
    assert api_status(client, access_token) == 200


def test_revoking_one_credential_ends_only_its_own_tokens(client, federated, issuer):
    application, secret, credential = federated()
    other = add(application, issuer, name="Environment", subject="repo:octo-org/octo-repo:environment:prod")
    ours = trade(client, application, issuer.token(AUDIENCE)).json()["access_token"]
    theirs = trade(client, application, issuer.token(AUDIENCE, sub=other.subject)).json()["access_token"]

    revoke_federated_credential(credential=credential, actor=COMMAND_LINE)

    assert (api_status(client, ours), api_status(client, theirs)) == (401, 200)
    assert IssuedToken.objects.get().federated_credential_id == other.pk


def test_a_token_is_not_recorded_for_a_credential_revoked_meanwhile(client, federated, issuer):
    application, _, credential = federated()
    trade(client, application, issuer.token(AUDIENCE))
    row = AccessToken.objects.get()
    IssuedToken.objects.all().delete()
    FederatedCredential.objects.filter(pk=credential.pk).update(revoked_at=row.created)

    assert record_issued_token(row.pk, credential) is False
    assert not IssuedToken.objects.exists()


def test_a_token_record_names_exactly_one_credential(client, federated, issuer):
    application, _, _ = federated()
    trade(client, application, issuer.token(AUDIENCE))
    issued = IssuedToken.objects.get()

    with pytest.raises(IntegrityError), transaction.atomic():
        IssuedToken.objects.filter(pk=issued.pk).update(secret=application.secrets.get())
    with pytest.raises(IntegrityError), transaction.atomic():
        IssuedToken.objects.filter(pk=issued.pk).update(federated_credential=None)


def test_introspection_and_revocation_authenticate_with_workload_tokens(client, federated, issuer):
    application, _, _ = federated()
    access_token = trade(client, application, issuer.token(AUDIENCE)).json()["access_token"]

    introspected = trade(client, application, issuer.token(AUDIENCE), path="/oauth/introspect", token=access_token)
    revoked = trade(client, application, issuer.token(AUDIENCE), path="/oauth/revoke", token=access_token)

    assert introspected.status_code == 200, introspected.content
    assert introspected.json()["active"] is True
    assert revoked.status_code == 200, revoked.content
    assert api_status(client, access_token) == 401


# --- Brute-force limits, and an issuer or a store that is away -------------------------------------------------------


@pytest.fixture
def small_limits(settings):
    settings.FAILURE_LIMITS = {**settings.FAILURE_LIMITS, "TOKEN_PER_CLIENT_ADDRESS": (3, 60)}


def test_refused_tokens_count_against_the_client_id(client, federated, issuer, small_limits, counter_store):
    application, secret, _ = federated()
    for _ in range(3):
        assert_invalid_client(trade(client, application, issuer.token("http://wrong")))

    locked = trade(client, application, issuer.token(AUDIENCE))

    assert locked.status_code == 429
    assert locked.json()["error"] == "too_many_attempts"
    basic = client.post(
        "/oauth/token",
        "grant_type=client_credentials",
        content_type=FORM,
        HTTP_AUTHORIZATION=basic_auth(application.client_id, secret),
    )
    assert basic.status_code == 429


def test_an_issuer_down_with_no_keys_kept_answers_503_not_counted(client, federated, issuer, small_limits, frozen_time):
    application, _, _ = federated()
    frozen_time[0] += 15 * 60 + 1  # the keys read when the credential was added are gone
    issuer.server.publish("/.well-known/openid-configuration", b"down", status=502)

    answers = [trade(client, application, issuer.token(AUDIENCE)) for _ in range(4)]

    for response in answers:
        assert response.status_code == 503
        assert response.json()["error"] == "temporarily_unavailable"
    assert answers[0]["Retry-After"] == "60"
    assert not AccessToken.objects.exists()
    # Four refusals past a limit of three, none counted: the keys coming back, the next token is taken.
    issuer.publish()
    frozen_time[0] += 61
    assert trade(client, application, issuer.token(AUDIENCE)).status_code == 200


def test_the_retry_after_of_a_503_is_what_is_left_of_the_minute(client, federated, issuer, frozen_time):
    application, _, _ = federated()
    frozen_time[0] += 15 * 60 + 1
    issuer.server.close()

    first = trade(client, application, issuer.token(AUDIENCE))
    frozen_time[0] += 45
    later = trade(client, application, issuer.token(AUDIENCE))

    assert (first.status_code, later.status_code) == (503, 503)
    assert (first["Retry-After"], later["Retry-After"]) == ("60", "15")


def test_with_the_replay_store_away_a_workload_token_gets_503_and_no_token(client, federated, issuer, settings):
    application, secret, _ = federated()
    token = issuer.token(AUDIENCE)
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
        }
    }

    response = trade(client, application, token)

    assert response.status_code == 503
    assert response.json()["error"] == "temporarily_unavailable"
    assert not AccessToken.objects.exists()


# --- Adding and revoking: the service's rules ------------------------------------------------------------------------


def test_adding_records_the_credential_and_its_activity(make_application, issuer):
    application, _ = make_application()

    credential = add(application, issuer)

    assert (credential.issuer, credential.subject, credential.audience) == (issuer.url, SUBJECT, AUDIENCE)
    event = AuditEvent.objects.get(action=AuditEvent.Action.FEDERATED_ADDED)
    assert event.changes == {
        "federated_credential": "CI on main",
        "issuer": issuer.url,
        "subject": SUBJECT,
        "audience": AUDIENCE,
    }
    assert ("inline", "“CI on main”") in event.details()


def test_the_same_issuer_subject_and_audience_twice_is_refused(make_application, issuer):
    application, _ = make_application()
    add(application, issuer)

    with pytest.raises(DuplicateFederatedCredential):
        add(application, issuer, name="Again")
    # Another audience, or another application, is another credential.
    add(application, issuer, name="Other audience", audience="https://other.example")
    other, _ = make_application(name="Other")
    add(other, issuer)
    assert FederatedCredential.objects.count() == 3


def test_a_revoked_credential_may_be_added_again(make_application, issuer):
    application, _ = make_application()
    revoke_federated_credential(credential=add(application, issuer), actor=COMMAND_LINE)

    assert add(application, issuer).revoked_at is None


def test_twenty_credentials_at_most(make_application, issuer):
    application, _ = make_application()
    for n in range(MAX_FEDERATED_CREDENTIALS):
        add(application, issuer, subject=f"repo:octo-org/repo-{n}:ref:refs/heads/main")
    fetches = issuer.fetches("/.well-known/openid-configuration")

    with pytest.raises(FederatedCredentialLimitReached, match="already has 20 federated credentials"):
        add(application, issuer, subject="repo:octo-org/one-more:ref:refs/heads/main")

    assert FederatedCredential.objects.count() == MAX_FEDERATED_CREDENTIALS
    # Refused before the issuer is read.
    assert issuer.fetches("/.well-known/openid-configuration") == fetches


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"name": " "}, "name", "Enter a name."),
        ({"name": "x" * 101}, "name", "Use at most 100 characters."),
        ({"issuer": ""}, "issuer", "Enter the issuer."),
        ({"issuer": "https://" + "a" * 250 + ".example"}, "issuer", "Use at most 255 characters."),
        ({"issuer": "https://token.actions.githubusercontent.com?x=1"}, "issuer", "without query"),
        ({"issuer": "https://token.actions.githubusercontent.com#x"}, "issuer", "without query"),
        ({"issuer": "ftp://issuer.example"}, "issuer", "This is no issuer URL"),
        ({"issuer": "not a url"}, "issuer", "This is no issuer URL"),
        ({"issuer": "https://user:pass@issuer.example"}, "issuer", "holds a user name or password"),
        ({"subject": ""}, "subject", "Enter the subject."),
        ({"subject": "repo:octo-org/*:ref:refs/heads/main"}, "subject", "* is no wildcard"),
        ({"subject": "repo:octo\norg"}, "subject", "Use printable characters only"),
        ({"subject": "s" * 601}, "subject", "Use at most 600 characters."),
        ({"audience": ""}, "audience", "Enter the audience."),
        ({"audience": "a\x00b"}, "audience", "Use printable characters only"),
    ],
)
def test_a_bad_value_is_refused_naming_the_field_and_nothing_is_kept(make_application, issuer, fields, field, message):
    application, _ = make_application()

    with pytest.raises(ValidationError) as refused:
        add(application, issuer, **fields)

    assert message in " ".join(refused.value.message_dict[field])
    assert not FederatedCredential.objects.exists()


def test_members_may_not_add_or_revoke(make_application, issuer, member_membership):
    application, _ = make_application()
    credential = add(application, issuer)
    member = Actor.for_member(member_membership)

    with pytest.raises(PermissionDenied):
        add(application, issuer, actor=member, name="Mine", audience="https://mine.example")
    with pytest.raises(PermissionDenied):
        revoke_federated_credential(credential=credential, actor=member)
    credential.refresh_from_db()
    assert credential.revoked_at is None


def test_an_api_client_may_not_add_to_a_sibling_with_scopes_it_lacks(make_application, issuer):
    caller, _ = make_application(name="Caller", scopes=["update:applications"])
    sibling, _ = make_application(name="Sibling", scopes=["read:organizations"])
    actor = Actor(label="API client", application=caller)

    with pytest.raises(ScopeEscalation):
        add(sibling, issuer, actor=actor)
    assert not FederatedCredential.objects.exists()
    assert issuer.fetches("/.well-known/openid-configuration") == 0


def test_the_last_live_credential_rule_counts_every_kind(client, make_application, issuer):
    application, _ = make_application()
    credential = add(application, issuer)
    key = add_key(application=application, actor=COMMAND_LINE, public_key=public_pem(private_key()))

    # Secret, key and federated credential: the secret and the key may go, the last one may not.
    revoke_secret(secret=application.secrets.get(), actor=COMMAND_LINE)
    revoke_key(key=key, actor=COMMAND_LINE)
    with pytest.raises(LastLiveCredential):
        revoke_federated_credential(credential=credential, actor=COMMAND_LINE)

    credential.refresh_from_db()
    assert credential.revoked_at is None
    # And the application signs in with it alone.
    assert trade(client, application, issuer.token(AUDIENCE)).status_code == 200


def test_a_federated_credential_lets_the_only_secret_go(make_application, issuer):
    application, _ = make_application()
    add(application, issuer)

    revoke_secret(secret=application.secrets.get(), actor=COMMAND_LINE)

    assert application.secrets.get().revoked_at is not None


def test_the_body_may_repeat_nothing(client, federated, issuer):
    application, _, _ = federated()
    body = urlencode(
        [
            ("grant_type", "client_credentials"),
            ("client_id", application.client_id),
            ("client_id", "other"),
            ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
            ("client_assertion", issuer.token(AUDIENCE)),
        ]
    )

    response = client.post("/oauth/token", body, content_type=FORM)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
