"""After a whole flow, the plaintext secret and the raw access token are nowhere the server keeps things."""

import logging
import re

import pytest

from applications.tests.oauth_helpers import basic_auth, request_token
from portal.tests.factories import PASSWORD
from portal.tests.helpers import form_token_of
from portal.tests.storage import everything_stored


def _create_signed_in(client, user, fields: dict):
    """Signs `user` in and creates an application through the New Application form; returns the reveal."""
    assert client.post("/accounts/login/", {"username": user.username, "password": PASSWORD}).status_code == 302
    new_page = client.get("/integrations/applications/new/").content.decode()
    return client.post("/integrations/applications/new/", {**fields, "form_token": form_token_of(new_page)})


def _logged(caplog) -> str:
    # Unfiltered capture: nothing may log these in the first place, redaction or not.
    return caplog.text + "\n".join(f"{record.getMessage()} {record.exc_text}" for record in caplog.records)


@pytest.mark.django_db(transaction=True)
def test_a_full_flow_leaves_no_secret_or_token_in_logs_database_sessions_or_cache(client, admin_user, caplog):
    caplog.set_level(logging.DEBUG)
    reveal = _create_signed_in(
        client, admin_user, {"name": "Leak check", "description": "", "scopes": ["read:credentials"]}
    )
    assert reveal.status_code == 200
    page = reveal.content.decode()
    secret = re.search(r'data-testid="client-secret">([^<]+)<', page).group(1)
    client_id = re.search(r'data-testid="client-id">([^<]+)<', page).group(1)

    from applications.models import Application

    application = Application.objects.get(client_id=client_id)
    token = request_token(client, application, secret).json()["access_token"]
    assert client.get("/api/credentials", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200
    assert client.get(f"/api/credentials?access_token={token}").status_code == 401
    assert request_token(client, application, secret + "x").status_code == 401
    assert (
        client.post(
            "/oauth/token",
            f"grant_type=client_credentials&client_id={client_id}&client_secret={secret}&scope=nope",
            content_type="application/x-www-form-urlencoded",
        ).status_code
        == 400
    )
    assert client.get("/api/organization", HTTP_AUTHORIZATION=basic_auth(client_id, secret)).status_code == 401

    def client_post(url, body, **headers):
        return client.post(url, body, content_type="application/x-www-form-urlencoded", **headers)

    good, bad = basic_auth(client_id, secret), basic_auth(client_id, secret + "x")
    assert client_post("/oauth/introspect", f"token={token}", HTTP_AUTHORIZATION=good).json()["active"] is True
    body_with_a_wrong_secret = f"token={token}&client_id={client_id}&client_secret={secret}x"
    assert client_post("/oauth/introspect", body_with_a_wrong_secret).status_code == 401
    assert client_post("/oauth/revoke", f"token={token}x", HTTP_AUTHORIZATION=bad).status_code == 401
    assert client_post("/oauth/revoke", f"token={token}", HTTP_AUTHORIZATION=good).status_code == 200
    assert client.get("/api/credentials", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401
    client.get(f"/integrations/applications/{application.public_id}/")
    client.post(f"/integrations/applications/{application.public_id}/delete/")
    assert not Application.objects.filter(pk=application.pk).exists()

    stored = everything_stored()
    logged = _logged(caplog)
    for value in (secret, token, basic_auth(client_id, secret).split()[1]):
        assert value not in stored
        assert value not in logged


@pytest.mark.django_db(transaction=True)
def test_rotation_reveal_and_revocation_leave_no_secret_or_token_anywhere(client, admin_user, caplog):
    from django.test import Client

    from applications.models import Application

    caplog.set_level(logging.DEBUG)
    reveal = _create_signed_in(
        client, admin_user, {"name": "Rotated", "scopes": ["update:applications"], "expires_in_days": "30"}
    )
    first = re.search(r'data-testid="client-secret">([^<]+)<', reveal.content.decode()).group(1)
    application = Application.objects.get()
    first_row = application.secrets.get()
    old_token = request_token(client, application, first).json()["access_token"]

    # Rotation in the portal: the reveal, then a reload of it (the same one-time form token).
    rotate_url = f"/integrations/applications/{application.public_id}/secrets/new/"
    rotate_page = client.get(rotate_url).content.decode()
    rotate_token = form_token_of(rotate_page)
    data = {"keep_current_for": "3600", "expires_in_days": "90", "form_token": rotate_token}
    second = re.search(r'data-testid="client-secret">([^<]+)<', client.post(rotate_url, data).content.decode()).group(1)
    assert 'data-testid="client-secret"' not in client.post(rotate_url, data).content.decode()
    new_token = request_token(client, application, second).json()["access_token"]

    # Revocation in the portal, with the old secret's tokens.
    revoke_url = f"/integrations/applications/{application.public_id}/secrets/{first_row.public_id}/revoke/"
    client.get(revoke_url)
    assert client.post(revoke_url, {"revoke_tokens": "on"}).status_code == 302
    client.get(f"/integrations/applications/{application.public_id}/")
    assert request_token(client, application, first).status_code == 401

    # Rotation and revocation through the API, by the application itself.
    api = Client()
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {new_token}"}
    made = api.post(
        f"/api/applications/{application.public_id}/secrets",
        {"keepCurrentFor": 3600},
        content_type="application/json",
        **bearer,
    )
    third = made.json()["clientSecret"]
    third_token = request_token(api, application, third).json()["access_token"]
    second_row = application.secrets.get(hint=second[-4:])
    assert (
        api.delete(
            f"/api/applications/{application.public_id}/secrets/{second_row.public_id}",
            HTTP_AUTHORIZATION=f"Bearer {third_token}",
        ).status_code
        == 204
    )

    stored = everything_stored(client, api)
    logged = _logged(caplog)
    for value in (first, second, third, old_token, new_token, third_token):
        assert value not in stored
        assert value not in logged
        assert value not in repr(dict(client.session.items()))
