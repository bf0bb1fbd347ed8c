"""Contract §6, no escalation through the API: a client changes the credentials, the token lifetime or the allowed
networks of, or suspends, only itself or an application whose scopes are all among its own."""

import json

import pytest

from api.tests.helpers import bearer
from applications.models import Application, AuditEvent, ClientSecret
from applications.services import rotate_secret
from applications.tests.oauth_helpers import request_token
from portal.actors import COMMAND_LINE

CALLER_SCOPES = ["read:credentials", "create:credentials", "read:applications", "update:applications"]
REFUSAL = "only of its own application, or of one whose scopes are all among its own"


@pytest.fixture
def caller(make_application, get_token):
    """A1 of the report: update:applications, but not read:organizations."""
    application, secret = make_application(name="A1", scopes=CALLER_SCOPES)
    return application, get_token(application, secret)


@pytest.fixture
def sibling(make_application):
    """A2 of the report: read:organizations, a scope the caller lacks."""
    return make_application(name="A2", scopes=["read:credentials", "delete:credentials", "read:organizations"])


def url(application, *rest):
    return "/".join([f"/api/applications/{application.public_id}", *rest])


def post_secret(client, token, application, body=None):
    return client.post(
        url(application, "secrets"), json.dumps(body or {}), content_type="application/json", **bearer(token)
    )


def patch(client, token, application, body):
    return client.patch(url(application), json.dumps(body), content_type="application/json", **bearer(token))


def snapshot():
    return (
        list(ClientSecret.objects.order_by("pk").values()),
        list(Application.objects.order_by("pk").values()),
        AuditEvent.objects.count(),
    )


def assert_refused(response):
    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"
    assert REFUSAL in response.json()["detail"]
    # Not a scope the token lacks: no insufficient_scope challenge.
    assert "WWW-Authenticate" not in response


def test_a_client_may_not_mint_a_secret_for_a_sibling_with_scopes_it_lacks(client, caller, sibling):
    _, token = caller
    target, secret = sibling
    before = snapshot()
    response = post_secret(client, token, target)
    assert_refused(response)
    assert "clientSecret" not in response.content.decode()
    assert snapshot() == before
    assert request_token(client, target, secret).status_code == 200


def test_a_client_may_not_cut_a_sibling_off_with_keep_current_for_zero(client, caller, sibling):
    _, token = caller
    target, secret = sibling
    before = snapshot()
    assert_refused(post_secret(client, token, target, {"keepCurrentFor": 0}))
    assert snapshot() == before
    assert target.secrets.get().expires_at is None
    assert request_token(client, target, secret).status_code == 200


@pytest.mark.parametrize("expired", [False, True], ids=["live", "expired"])
def test_a_client_may_not_revoke_a_siblings_secret(client, caller, sibling, get_token, expired):
    _, token = caller
    target, old = sibling
    first = target.secrets.get()
    old_token = get_token(target, old)
    rotate_secret(application=target, actor=COMMAND_LINE, keep_current_for=0 if expired else None)
    before = snapshot()
    assert_refused(client.delete(url(target, "secrets", str(first.public_id)), **bearer(token)))
    assert snapshot() == before
    assert client.get("/api/organization", **bearer(old_token)).status_code == 200
    if not expired:
        assert request_token(client, target, old).status_code == 200


@pytest.mark.parametrize(
    "body", [{"tokenLifetime": 300}, {"name": "Taken over", "tokenLifetime": 300}], ids=["alone", "with a name"]
)
def test_a_client_may_not_change_a_siblings_token_lifetime(client, caller, sibling, body):
    _, token = caller
    target, secret = sibling
    before = snapshot()
    assert_refused(patch(client, token, target, body))
    assert snapshot() == before
    target.refresh_from_db()
    assert target.name == "A2" and target.token_lifetime is None
    assert request_token(client, target, secret).json()["expires_in"] == 3600


@pytest.mark.parametrize(
    "body",
    [
        {"allowedNetworks": ["198.51.100.0/24"]},
        {"allowedNetworks": []},
        {"suspended": True},
        {"suspended": False},
        {"name": "Taken over", "suspended": True},
    ],
    ids=["networks", "no networks", "suspend", "resume", "suspend with a name"],
)
def test_a_client_may_not_fence_in_or_suspend_a_sibling_with_scopes_it_lacks(client, caller, sibling, body):
    _, token = caller
    target, secret = sibling
    before = snapshot()
    assert_refused(patch(client, token, target, body))
    assert snapshot() == before
    assert request_token(client, target, secret).status_code == 200


def test_a_client_may_still_rename_and_redescribe_a_sibling(client, caller, sibling):
    _, token = caller
    target, _ = sibling
    response = patch(client, token, target, {"name": "A2 renamed", "description": "Reads the organization."})
    assert response.status_code == 200
    target.refresh_from_db()
    assert (target.name, target.description) == ("A2 renamed", "Reads the organization.")


@pytest.mark.parametrize(
    "scopes",
    [["read:credentials"], ["read:credentials", "update:applications"], CALLER_SCOPES],
    ids=["fewer scopes", "some of its scopes", "the same scopes"],
)
def test_a_client_may_change_a_sibling_whose_scopes_are_all_among_its_own(
    client, caller, make_application, get_token, scopes
):
    _, token = caller
    target, old = make_application(name="Subset", scopes=scopes)
    first = target.secrets.get()
    response = post_secret(client, token, target, {"keepCurrentFor": None})
    assert response.status_code == 201
    assert request_token(client, target, response.json()["clientSecret"]).status_code == 200
    assert client.delete(url(target, "secrets", str(first.public_id)), **bearer(token)).status_code == 204
    assert request_token(client, target, old).status_code == 401
    assert patch(client, token, target, {"tokenLifetime": 900}).status_code == 200
    assert patch(client, token, target, {"allowedNetworks": ["198.51.100.0/24"]}).status_code == 200
    assert patch(client, token, target, {"suspended": True}).status_code == 200
    target.refresh_from_db()
    assert target.token_lifetime == 900
    assert (target.allowed_networks, target.suspended) == (["198.51.100.0/24"], True)


def test_a_client_may_change_its_own_credentials_and_token_lifetime(client, caller):
    application, token = caller
    first = application.secrets.get()
    assert post_secret(client, token, application, {"keepCurrentFor": None}).status_code == 201
    assert patch(client, token, application, {"tokenLifetime": 300}).status_code == 200
    assert client.delete(url(application, "secrets", str(first.public_id)), **bearer(token)).status_code == 204
