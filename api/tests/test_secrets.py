"""The API of contract §6: tokenLifetime and live secrets on an application, POST and DELETE of its secrets."""

import json
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from api.tests.helpers import api_time, bearer
from applications.identifiers import is_well_formed
from applications.models import ClientSecret
from applications.services import revoke_secret, rotate_secret
from applications.tests.oauth_helpers import request_token
from portal.actors import COMMAND_LINE


@pytest.fixture
def token(token_with):
    # The target's scopes are among the caller's: the no-escalation rule lets it change the target's secrets.
    return token_with("read:credentials", "read:applications", "update:applications")


@pytest.fixture
def target(make_application):
    application, secret = make_application(name="Nightly sync", scopes=["read:credentials"])
    return application, secret


def url(application, *rest):
    return "/".join([f"/api/applications/{application.public_id}", *rest])


def post(client, token, application, body=None, raw=None):
    return client.post(
        url(application, "secrets"),
        raw if raw is not None else json.dumps(body if body is not None else {}),
        content_type="application/json",
        **bearer(token),
    )


def delete(client, token, application, secret_id, query=""):
    return client.delete(url(application, "secrets", str(secret_id)) + query, **bearer(token))


def snapshot():
    return list(ClientSecret.objects.order_by("pk").values())


def test_get_lists_only_live_secrets_and_the_token_lifetime(client, token, target):
    application, _ = target
    first = application.secrets.get()
    second, _ = rotate_secret(application=application, actor=COMMAND_LINE, keep_current_for=0, expires_in_days=30)
    body = client.get(url(application), **bearer(token)).json()
    assert body["tokenLifetime"] == 3600
    assert [item["id"] for item in body["secrets"]] == [str(second.public_id)]
    item = body["secrets"][0]
    assert set(item) == {"id", "hint", "createdAt", "expiresAt", "lastUsedAt", "lastUsedAddress"}
    assert item["hint"] == second.hint and item["lastUsedAt"] is None and item["lastUsedAddress"] is None
    assert item["expiresAt"] == api_time(second.expires_at)
    assert first.secret_hash not in json.dumps(body) and second.secret_hash not in json.dumps(body)


def test_patch_changes_the_token_lifetime_for_tokens_issued_afterwards(client, token, target):
    application, secret = target
    response = client.patch(url(application), {"tokenLifetime": 300}, content_type="application/json", **bearer(token))
    assert response.status_code == 200 and response.json()["tokenLifetime"] == 300
    assert request_token(client, application, secret).json()["expires_in"] == 300


@pytest.mark.parametrize("value", [301, 0, -1, "3600", None, True, 3600.5, [3600]])
def test_patch_refuses_other_lifetimes_with_400(client, token, target, value):
    application, _ = target
    response = client.patch(
        url(application), {"tokenLifetime": value}, content_type="application/json", **bearer(token)
    )
    assert response.status_code == 400
    assert "tokenLifetime" in response.json()
    application.refresh_from_db()
    assert application.token_lifetime is None


def test_post_answers_201_once_with_the_new_secret_and_no_store(client, token, target):
    application, old = target
    response = post(client, token, application, {"expiresInDays": 90})
    assert response.status_code == 201
    assert "no-store" in response["Cache-Control"]
    body = response.json()
    assert set(body) == {"id", "clientSecret", "hint", "createdAt", "expiresAt"}
    assert is_well_formed(body["clientSecret"], "ipcs_") and body["hint"] == body["clientSecret"][-4:]
    row = ClientSecret.objects.get(public_id=body["id"])
    assert abs(row.expires_at - (row.created_at + timedelta(days=90))) < timedelta(seconds=1)
    old_row = application.secrets.exclude(pk=row.pk).get()
    assert timedelta(hours=23) < old_row.expires_at - timezone.now() <= timedelta(days=1)
    assert request_token(client, application, body["clientSecret"]).status_code == 200
    assert request_token(client, application, old).status_code == 200
    listed = client.get(url(application), **bearer(token)).json()
    assert "clientSecret" not in json.dumps(listed) and body["clientSecret"] not in json.dumps(listed)


@pytest.mark.parametrize("body, keeps", [({"keepCurrentFor": 0}, timedelta(0)), ({"keepCurrentFor": None}, None)])
def test_keep_current_for_zero_or_null(client, token, target, body, keeps):
    application, old = target
    old_row = application.secrets.get()
    before = timezone.now()
    assert post(client, token, application, body).status_code == 201
    old_row.refresh_from_db()
    if keeps is None:
        assert old_row.expires_at is None
        assert request_token(client, application, old).status_code == 200
    else:
        assert before <= old_row.expires_at <= timezone.now()
        assert request_token(client, application, old).status_code == 401


def test_an_application_may_rotate_its_own_secret(client, make_application, get_token):
    application, secret = make_application(name="Self", scopes=["update:applications"])
    own = get_token(application, secret)
    response = post(client, own, application, {"keepCurrentFor": 3600})
    assert response.status_code == 201
    # Its current token and secret keep working meanwhile.
    assert request_token(client, application, secret).status_code == 200
    assert request_token(client, application, response.json()["clientSecret"]).status_code == 200


def test_a_third_secret_is_409_and_nothing_changes(client, token, target):
    application, _ = target
    rotate_secret(application=application, actor=COMMAND_LINE)
    before = snapshot()
    response = post(client, token, application, {"keepCurrentFor": 0})
    assert response.status_code == 409
    assert "revoke one of them first" in response.json()["detail"]
    assert "clientSecret" not in response.content.decode()
    assert snapshot() == before


@pytest.mark.parametrize(
    "field, value",
    [
        *[("keepCurrentFor", value) for value in (-1, 604801, "3600", 1.5, True)],
        *[("expiresInDays", value) for value in (0, 731, "30")],
        ("clientSecret", "ipcs_mine"),
    ],
)
def test_post_refuses_values_outside_the_ranges_with_400(client, token, target, field, value):
    application, _ = target
    before = snapshot()
    response = post(client, token, application, {field: value})
    assert response.status_code == 400
    assert field in response.json()
    assert snapshot() == before


@pytest.mark.parametrize("raw", ["[]", "not json", '"x"'])
def test_post_refuses_a_body_that_is_not_an_object(client, token, target, raw):
    application, _ = target
    assert post(client, token, application, raw=raw).status_code == 400
    assert ClientSecret.objects.filter(application=application).count() == 1


def test_delete_revokes_the_secret_and_its_tokens(client, token, target, get_token):
    application, old = target
    first = application.secrets.get()
    old_token = get_token(application, old)
    rotate_secret(application=application, actor=COMMAND_LINE)
    response = delete(client, token, application, first.public_id)
    assert response.status_code == 204 and response.content == b""
    assert request_token(client, application, old).status_code == 401
    assert client.get("/api/credentials", **bearer(old_token)).status_code == 401
    listed = client.get(url(application), **bearer(token)).json()["secrets"]
    assert str(first.public_id) not in [item["id"] for item in listed]


def test_delete_with_revoke_tokens_false_keeps_its_tokens(client, token, target, get_token):
    application, old = target
    first = application.secrets.get()
    old_token = get_token(application, old)
    rotate_secret(application=application, actor=COMMAND_LINE)
    assert delete(client, token, application, first.public_id, "?revokeTokens=false").status_code == 204
    assert request_token(client, application, old).status_code == 401
    assert client.get("/api/credentials", **bearer(old_token)).status_code == 200


def test_delete_with_another_revoke_tokens_value_is_400(client, token, target):
    application, _ = target
    first = application.secrets.get()
    rotate_secret(application=application, actor=COMMAND_LINE)
    before = snapshot()
    response = delete(client, token, application, first.public_id, "?revokeTokens=no")
    assert response.status_code == 400 and "revokeTokens" in response.json()
    assert snapshot() == before


@pytest.mark.parametrize("query", ["?revokeTokens=true&revokeTokens=false", "?revokeTokens=false&revokeTokens=true"])
def test_a_repeated_revoke_tokens_is_400_and_nothing_changes(client, token, target, get_token, query):
    application, old = target
    first = application.secrets.get()
    old_token = get_token(application, old)
    rotate_secret(application=application, actor=COMMAND_LINE)
    before = snapshot()
    response = delete(client, token, application, first.public_id, query)
    assert response.status_code == 400
    assert response.json() == {"revokeTokens": ["Give this parameter only once."]}
    assert snapshot() == before
    assert client.get("/api/credentials", **bearer(old_token)).status_code == 200


def test_delete_of_the_only_live_secret_is_409(client, token, target):
    application, secret = target
    before = snapshot()
    response = delete(client, token, application, application.secrets.get().public_id)
    assert response.status_code == 409
    assert "generate a new secret or add a key first" in response.json()["detail"]
    assert snapshot() == before
    assert request_token(client, application, secret).status_code == 200


def test_delete_of_an_unknown_revoked_or_other_applications_secret_is_404(client, token, target, make_application):
    application, _ = target
    first = application.secrets.get()
    rotate_secret(application=application, actor=COMMAND_LINE, keep_current_for=0)
    revoke_secret(secret=first, actor=COMMAND_LINE)
    other, _ = make_application(name="Other")
    rotate_secret(application=other, actor=COMMAND_LINE)
    before = snapshot()
    assert delete(client, token, application, uuid.uuid4()).status_code == 404
    assert delete(client, token, application, first.public_id).status_code == 404  # revoked already
    assert delete(client, token, application, other.secrets.first().public_id).status_code == 404
    assert client.delete(url(application, "secrets", "not-a-uuid"), **bearer(token)).status_code == 404
    assert snapshot() == before


def test_another_organizations_application_is_404(client, token, make_application, other_organization):
    application, _ = make_application(name="Globex sync", organization=other_organization)
    first = application.secrets.get()
    rotate_secret(application=application, actor=COMMAND_LINE)
    before = snapshot()
    assert post(client, token, application).status_code == 404
    assert delete(client, token, application, first.public_id).status_code == 404
    assert snapshot() == before


def test_reading_is_not_enough_to_rotate_or_revoke(client, token_with, target):
    application, _ = target
    reader = token_with("read:applications", "delete:applications")
    first = application.secrets.get()
    rotate_secret(application=application, actor=COMMAND_LINE)
    before = snapshot()
    for response in (post(client, reader, application), delete(client, reader, application, first.public_id)):
        assert response.status_code == 403
        assert response["WWW-Authenticate"] == 'Bearer error="insufficient_scope", scope="update:applications"'
    assert snapshot() == before


@pytest.mark.parametrize("method", ["get", "put", "patch"])
def test_other_methods_on_secrets_are_405(client, token, target, method):
    application, _ = target
    first = application.secrets.get()
    for path in (url(application, "secrets"), url(application, "secrets", str(first.public_id))):
        assert getattr(client, method)(path, **bearer(token)).status_code == 405


# --- An expired secret's tokens ----------------------------------------------------------


def test_an_expired_secret_can_be_revoked_to_end_its_tokens(client, token, target, get_token):
    application, old = target
    first = application.secrets.get()
    old_token = get_token(application, old)
    assert post(client, token, application, {"keepCurrentFor": 0}).status_code == 201
    assert request_token(client, application, old).status_code == 401
    assert client.get("/api/credentials", **bearer(old_token)).status_code == 200

    # Not the only live secret: it is not live at all, so beside the one live secret it is no 409.
    response = delete(client, token, application, first.public_id)
    assert response.status_code == 204 and response.content == b""
    refused = client.get("/api/credentials", **bearer(old_token))
    assert refused.status_code == 401
    assert refused["WWW-Authenticate"] == 'Bearer realm="api", error="invalid_token"'
    first.refresh_from_db()
    assert first.revoked_at is not None
    # Revoked, it is 404 from now on.
    assert delete(client, token, application, first.public_id).status_code == 404


def test_an_expired_secret_revoked_without_its_tokens_leaves_them(client, token, target, get_token):
    application, old = target
    first = application.secrets.get()
    old_token = get_token(application, old)
    rotate_secret(application=application, actor=COMMAND_LINE, keep_current_for=0)
    assert delete(client, token, application, first.public_id, "?revokeTokens=false").status_code == 204
    assert client.get("/api/credentials", **bearer(old_token)).status_code == 200
    first.refresh_from_db()
    assert first.revoked_at is not None
