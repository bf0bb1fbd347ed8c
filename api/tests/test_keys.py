"""Public keys at the API (contract §10): GET lists live ones, POST …/keys adds one, DELETE …/keys/<id> revokes."""

import json

import pytest

from api.tests.helpers import bearer
from applications.keys import public_jwk
from applications.models import AuditEvent, PublicKey
from applications.services import MAX_LIVE_KEYS, add_key, revoke_secret
from applications.tests.key_helpers import claims_for, post_assertion, private_key, private_pem, public_pem, sign
from portal.actors import COMMAND_LINE

REFUSAL = "only of its own application, or of one whose scopes are all among its own"


@pytest.fixture
def target(make_application):
    application, _ = make_application(name="Target", scopes=["read:credentials"])
    return application


@pytest.fixture
def token(token_with):
    return token_with("read:applications", "update:applications", "read:credentials")


def keys_url(application, *rest):
    return "/".join([f"/api/applications/{application.public_id}/keys", *rest])


def post_key(client, token, application, body):
    return client.post(keys_url(application), json.dumps(body), content_type="application/json", **bearer(token))


@pytest.mark.parametrize("shape", ["PEM", "JWK object"])
def test_a_key_is_added_and_listed_and_authenticates(client, token, target, shape):
    private = private_key("EdDSA")
    value = public_pem(private) if shape == "PEM" else public_jwk(private.public_key())

    response = post_key(client, token, target, {"publicKey": value, "expiresInDays": 30})

    assert response.status_code == 201, response.content
    body = response.json()
    key = PublicKey.objects.get()
    assert set(body) == {"id", "kid", "alg", "createdAt", "expiresAt", "lastUsedAt", "lastUsedAddress"}
    assert (body["id"], body["kid"], body["alg"], body["lastUsedAt"]) == (str(key.public_id), key.kid, "EdDSA", None)
    assert body["expiresAt"] is not None
    listed = client.get(f"/api/applications/{target.public_id}", **bearer(token)).json()["keys"]
    assert [item["id"] for item in listed] == [body["id"]]
    assert post_assertion(client, sign(private, claims_for(target.client_id))).status_code == 200
    event = AuditEvent.objects.get(action=AuditEvent.Action.KEY_ADDED)
    assert event.actor_label.startswith("API client")


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"publicKey": private_pem(private_key())}, "publicKey", "This is a private key"),
        ({"publicKey": public_pem(private_key("RS256", bits=1024))}, "publicKey", "This RSA key has 1024 bits"),
        ({"publicKey": "garbage"}, "publicKey", "This is not a public key"),
        ({"publicKey": 42}, "publicKey", "Give a PEM public key as a string, or a JWK object."),
        ({}, "publicKey", "This field is required."),
        ({"publicKey": public_pem(private_key()), "expiresInDays": 0}, "expiresInDays", "greater than or equal to 1"),
        ({"publicKey": public_pem(private_key()), "expiresInDays": "30"}, "expiresInDays", "Give an integer or null."),
        ({"publicKey": public_pem(private_key()), "kid": "mine"}, "kid", "This field cannot be set."),
    ],
)
def test_a_bad_value_is_400_naming_the_field_and_nothing_is_kept(client, token, target, body, field, message):
    response = post_key(client, token, target, body)

    assert response.status_code == 400
    assert message in response.json()[field][0]
    assert not PublicKey.objects.exists()
    if "private" in message:
        assert "PRIVATE" not in response.content.decode()


def test_a_duplicate_and_the_sixth_live_key_are_409(client, token, target):
    pem = public_pem(private_key())
    assert post_key(client, token, target, {"publicKey": pem}).status_code == 201

    duplicate = post_key(client, token, target, {"publicKey": pem})
    for _ in range(MAX_LIVE_KEYS - 1):
        add_key(application=target, actor=COMMAND_LINE, public_key=public_pem(private_key()))
    sixth = post_key(client, token, target, {"publicKey": public_pem(private_key())})

    assert duplicate.status_code == 409
    assert "already one of the application's live keys" in duplicate.json()["detail"]
    assert sixth.status_code == 409
    assert "already has 5 live keys" in sixth.json()["detail"]
    assert PublicKey.objects.count() == MAX_LIVE_KEYS


def test_revoking_a_key_ends_its_tokens_unless_told_not_to(client, token, target):
    private = private_key()
    first = add_key(application=target, actor=COMMAND_LINE, public_key=public_pem(private))
    second = add_key(application=target, actor=COMMAND_LINE, public_key=public_pem(private_key()))
    issued = post_assertion(client, sign(private, claims_for(target.client_id))).json()["access_token"]

    kept = client.delete(keys_url(target, str(second.public_id)) + "?revokeTokens=false", **bearer(token))
    revoked = client.delete(keys_url(target, str(first.public_id)), **bearer(token))

    assert (kept.status_code, revoked.status_code) == (204, 204)
    assert client.get("/api/credentials", **bearer(issued)).status_code == 401
    assert client.delete(keys_url(target, str(first.public_id)), **bearer(token)).status_code == 404


def test_the_last_live_credential_is_409(client, token, target):
    key = add_key(application=target, actor=COMMAND_LINE, public_key=public_pem(private_key()))
    secret = target.secrets.get()

    assert (
        client.delete(f"/api/applications/{target.public_id}/secrets/{secret.public_id}", **bearer(token)).status_code
        == 204
    )
    response = client.delete(keys_url(target, str(key.public_id)), **bearer(token))

    assert response.status_code == 409
    assert "last live credential" in response.json()["detail"]
    key.refresh_from_db()
    assert key.revoked_at is None


def test_the_only_secret_beside_a_live_key_may_be_revoked_and_then_the_last_key_not(client, token, target):
    add_key(application=target, actor=COMMAND_LINE, public_key=public_pem(private_key()))
    revoke_secret(secret=target.secrets.get(), actor=COMMAND_LINE)

    assert client.get(f"/api/applications/{target.public_id}", **bearer(token)).json()["secrets"] == []


def test_no_escalation_a_client_cannot_add_or_revoke_a_more_powerful_siblings_keys(
    client, token_with, make_application
):
    caller = token_with("read:applications", "update:applications")
    sibling, _ = make_application(name="Sibling", scopes=["read:organizations", "delete:applications"])
    key = add_key(application=sibling, actor=COMMAND_LINE, public_key=public_pem(private_key()))
    before = (list(PublicKey.objects.values()), AuditEvent.objects.count())

    added = post_key(client, caller, sibling, {"publicKey": public_pem(private_key())})
    revoked = client.delete(keys_url(sibling, str(key.public_id)), **bearer(caller))

    for response in (added, revoked):
        assert response.status_code == 403
        assert REFUSAL in response.json()["detail"]
    assert (list(PublicKey.objects.values()), AuditEvent.objects.count()) == before


def test_a_client_may_add_a_key_to_itself(client, make_application, get_token):
    application, secret = make_application(name="Self", scopes=["update:applications"])
    token = get_token(application, secret)

    assert post_key(client, token, application, {"publicKey": public_pem(private_key())}).status_code == 201


def test_another_organizations_or_an_unknown_application_or_key_is_404(
    client, token, make_application, other_organization, target
):
    theirs, _ = make_application(name="Theirs", organization=other_organization)
    their_key = add_key(application=theirs, actor=COMMAND_LINE, public_key=public_pem(private_key()))
    unknown = "00000000-0000-4000-8000-000000000000"

    assert post_key(client, token, theirs, {"publicKey": public_pem(private_key())}).status_code == 404
    assert client.delete(keys_url(theirs, str(their_key.public_id)), **bearer(token)).status_code == 404
    assert client.delete(keys_url(target, str(their_key.public_id)), **bearer(token)).status_code == 404
    assert client.delete(keys_url(target, unknown), **bearer(token)).status_code == 404
    their_key.refresh_from_db()
    assert their_key.revoked_at is None
