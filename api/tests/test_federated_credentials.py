"""Federated credentials at the API (contract §10): GET lists live ones, POST …/federated-credentials adds one (its
issuer read first), DELETE …/federated-credentials/<id> revokes one."""

import json

import pytest

from api.tests.helpers import bearer
from applications.models import AuditEvent, FederatedCredential
from applications.services import (
    MAX_FEDERATED_CREDENTIALS,
    add_federated_credential,
    revoke_federated_credential,
    revoke_secret,
)
from applications.tests.issuer_helpers import DISCOVERY_PATH, SUBJECT
from applications.tests.key_helpers import post_assertion
from portal.actors import COMMAND_LINE

REFUSAL = "only of its own application, or of one whose scopes are all among its own"
AUDIENCE = "http://testserver"


@pytest.fixture
def target(make_application):
    application, _ = make_application(name="Target", scopes=["read:credentials"])
    return application


@pytest.fixture
def token(token_with):
    return token_with("read:applications", "update:applications", "read:credentials")


def url(application, *rest):
    return "/".join([f"/api/applications/{application.public_id}/federated-credentials", *rest])


def post(client, token, application, body):
    return client.post(url(application), json.dumps(body), content_type="application/json", **bearer(token))


def body_for(local, **fields):
    return {"name": "Deploy", "issuer": local.url, "subject": SUBJECT, **fields}


def add(application, local, **fields):
    fields = {"name": "CI", "issuer": local.url, "subject": SUBJECT, "audience": AUDIENCE, **fields}
    return add_federated_credential(application=application, actor=COMMAND_LINE, **fields)


def test_a_credential_is_added_with_the_default_audience_listed_and_trades_tokens(client, token, target, issuer):
    response = post(client, token, target, body_for(issuer))

    assert response.status_code == 201, response.content
    body = response.json()
    credential = FederatedCredential.objects.get()
    assert set(body) == {"id", "name", "issuer", "subject", "audience", "createdAt", "lastUsedAt", "lastUsedAddress"}
    assert body["id"] == str(credential.public_id)
    assert (body["name"], body["issuer"], body["subject"]) == ("Deploy", issuer.url, SUBJECT)
    # Left out, the audience is the portal's issuer (contract §7).
    assert body["audience"] == AUDIENCE
    assert body["lastUsedAt"] is None
    detail = client.get(f"/api/applications/{target.public_id}", **bearer(token)).json()
    assert detail["federatedCredentials"] == [body]
    assert post_assertion(client, issuer.token(AUDIENCE), client_id=target.client_id).status_code == 200
    assert AuditEvent.objects.get(action=AuditEvent.Action.FEDERATED_ADDED).actor_label.startswith("API client")
    used = client.get(f"/api/applications/{target.public_id}", **bearer(token)).json()["federatedCredentials"][0]
    assert (used["lastUsedAddress"], used["lastUsedAt"] is not None) == ("127.0.0.1", True)


def test_an_audience_given_is_kept(client, token, target, issuer):
    response = post(client, token, target, body_for(issuer, audience="api://portal"))

    assert response.json()["audience"] == "api://portal"


def test_only_live_credentials_are_listed(client, token, target, issuer):
    kept = add(target, issuer)
    gone = add(target, issuer, subject="repo:octo-org/gone:ref:refs/heads/main")
    revoke_federated_credential(credential=gone, actor=COMMAND_LINE)

    listed = client.get(f"/api/applications/{target.public_id}", **bearer(token)).json()["federatedCredentials"]

    assert [item["id"] for item in listed] == [str(kept.public_id)]


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"name": None}, "name", "This field may not be null."),
        ({"name": ""}, "name", "Enter a name."),
        ({"issuer": 42}, "issuer", "Give a string."),
        ({"issuer": "http://token.actions.githubusercontent.com"}, "issuer", "Use an https:// URL"),
        ({"issuer": "https://issuer.example/?tenant=a"}, "issuer", "without query"),
        ({"subject": "repo:octo-org/*:ref:refs/heads/main"}, "subject", "* is no wildcard"),
        ({"subject": "x" * 601}, "subject", "Use at most 600 characters."),
        ({"audience": ""}, "audience", "Enter the audience."),
        ({"audience": ["a", "b"]}, "audience", "Give a string."),
        ({"id": "mine"}, "id", "This field cannot be set."),
    ],
)
def test_a_bad_value_is_400_naming_the_field_and_nothing_is_kept(client, token, target, issuer, fields, field, message):
    body = {key: value for key, value in {**body_for(issuer), **fields}.items() if value is not None or key in fields}

    response = post(client, token, target, body)

    assert response.status_code == 400
    assert message in response.json()[field][0]
    assert not FederatedCredential.objects.exists()


@pytest.mark.parametrize("missing", ["name", "issuer", "subject"])
def test_a_missing_field_is_400_naming_it(client, token, target, issuer, missing):
    body = body_for(issuer)
    del body[missing]

    response = post(client, token, target, body)

    assert response.status_code == 400
    assert response.json()[missing] == ["This field is required."]


def test_an_issuer_that_cannot_be_read_is_400_naming_the_url_tried(client, token, target, issuer):
    issuer.server.publish(DISCOVERY_PATH, b"<html>", status=500)

    response = post(client, token, target, body_for(issuer))

    assert response.status_code == 400
    assert response.json() == {
        "issuer": [f"The issuer's keys could not be read: {issuer.url}{DISCOVERY_PATH} answered 500."]
    }
    assert not FederatedCredential.objects.exists()


def test_a_duplicate_and_the_twenty_first_are_409(client, token, target, issuer):
    assert post(client, token, target, body_for(issuer)).status_code == 201

    duplicate = post(client, token, target, body_for(issuer, audience=AUDIENCE))
    for n in range(MAX_FEDERATED_CREDENTIALS - 1):
        add(target, issuer, subject=f"repo:octo-org/repo-{n}:ref:refs/heads/main")
    over = post(client, token, target, body_for(issuer, subject="repo:octo-org/one-more:ref:refs/heads/main"))

    assert duplicate.status_code == 409
    assert "already has a federated credential with this issuer, subject and audience" in duplicate.json()["detail"]
    assert over.status_code == 409
    assert "already has 20 federated credentials" in over.json()["detail"]
    assert FederatedCredential.objects.count() == MAX_FEDERATED_CREDENTIALS


def test_revoking_ends_its_tokens_unless_told_not_to(client, token, target, issuer):
    first = add(target, issuer)
    second = add(target, issuer, subject="repo:octo-org/octo-repo:environment:prod")
    issued = post_assertion(client, issuer.token(AUDIENCE), client_id=target.client_id).json()["access_token"]
    kept = post_assertion(client, issuer.token(AUDIENCE, sub=second.subject), client_id=target.client_id).json()[
        "access_token"
    ]

    without_tokens = client.delete(url(target, str(second.public_id)) + "?revokeTokens=false", **bearer(token))
    with_tokens = client.delete(url(target, str(first.public_id)), **bearer(token))

    assert (without_tokens.status_code, with_tokens.status_code) == (204, 204)
    assert without_tokens.content == b""
    assert client.get("/api/credentials", **bearer(issued)).status_code == 401
    assert client.get("/api/credentials", **bearer(kept)).status_code == 200
    assert client.delete(url(target, str(first.public_id)), **bearer(token)).status_code == 404


def test_a_revoke_tokens_value_other_than_true_or_false_is_400(client, token, target, issuer):
    credential = add(target, issuer)

    response = client.delete(url(target, str(credential.public_id)) + "?revokeTokens=no", **bearer(token))

    assert response.status_code == 400
    assert response.json() == {"revokeTokens": ["Give true or false."]}


def test_the_last_live_credential_is_409_across_kinds(client, token, target, issuer):
    credential = add(target, issuer)
    revoke_secret(secret=target.secrets.get(), actor=COMMAND_LINE)

    response = client.delete(url(target, str(credential.public_id)), **bearer(token))

    assert response.status_code == 409
    assert "last live credential" in response.json()["detail"]
    credential.refresh_from_db()
    assert credential.revoked_at is None


def test_no_escalation_a_client_cannot_add_or_revoke_a_more_powerful_siblings(
    client, token_with, make_application, issuer
):
    caller = token_with("read:applications", "update:applications")
    sibling, _ = make_application(name="Sibling", scopes=["read:organizations", "delete:applications"])
    credential = add(sibling, issuer)
    before = (list(FederatedCredential.objects.values()), AuditEvent.objects.count())
    fetches = issuer.fetches(DISCOVERY_PATH)

    added = post(client, caller, sibling, body_for(issuer, subject="repo:attacker/repo:ref:refs/heads/main"))
    revoked = client.delete(url(sibling, str(credential.public_id)), **bearer(caller))

    for response in (added, revoked):
        assert response.status_code == 403
        assert REFUSAL in response.json()["detail"]
    assert (list(FederatedCredential.objects.values()), AuditEvent.objects.count()) == before
    # Refused before the issuer was read.
    assert issuer.fetches(DISCOVERY_PATH) == fetches


def test_a_client_may_add_one_to_itself(client, make_application, get_token, issuer):
    application, secret = make_application(name="Self", scopes=["update:applications"])

    assert post(client, get_token(application, secret), application, body_for(issuer)).status_code == 201


def test_another_organizations_or_an_unknown_application_or_credential_is_404(
    client, token, make_application, other_organization, target, issuer
):
    theirs, _ = make_application(name="Theirs", organization=other_organization)
    their_credential = add(theirs, issuer)
    unknown = "00000000-0000-4000-8000-000000000000"

    assert post(client, token, theirs, body_for(issuer)).status_code == 404
    assert client.delete(url(theirs, str(their_credential.public_id)), **bearer(token)).status_code == 404
    assert client.delete(url(target, str(their_credential.public_id)), **bearer(token)).status_code == 404
    assert client.delete(url(target, unknown), **bearer(token)).status_code == 404
    their_credential.refresh_from_db()
    assert their_credential.revoked_at is None
    assert FederatedCredential.objects.count() == 1


def test_reading_needs_read_and_changing_needs_update(client, token_with, target, issuer):
    reader = token_with("read:applications")
    credential = add(target, issuer)

    assert post(client, reader, target, body_for(issuer)).status_code == 403
    assert client.delete(url(target, str(credential.public_id)), **bearer(reader)).status_code == 403
    assert client.get(f"/api/applications/{target.public_id}", **bearer(reader)).status_code == 200
