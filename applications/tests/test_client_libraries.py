"""Revocation and introspection as OAuth client libraries use them, against a live server found through discovery."""

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session as AuthlibSession
from oauthlib.oauth2 import BackendApplicationClient
from requests_oauthlib import OAuth2Session

METADATA = "/.well-known/oauth-authorization-server"


@pytest.fixture(autouse=True)
def plain_http_allowed(monkeypatch):
    # The live server speaks plain HTTP, which both libraries refuse unless told.
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")


@pytest.fixture
def sessions():
    """Closes every session a test opens: a kept-alive connection holds a live-server thread and its
    database connection, which would outlast the test database."""
    opened = []

    def keep(session):
        opened.append(session)
        return session

    yield keep
    for session in opened:
        session.close()


@pytest.fixture
def metadata(live_server):
    response = requests.get(live_server.url + METADATA, timeout=10)
    response.raise_for_status()
    assert response.json()["issuer"] == live_server.url
    return response.json()


@pytest.fixture
def application(make_application):
    return make_application(name="Library", scopes=["read:credentials"])


@pytest.fixture
def other(make_application):
    return make_application(name="Other library", scopes=["read:credentials"])


def api_status(live_server, token) -> int:
    return requests.get(
        live_server.url + "/api/credentials", headers={"Authorization": f"Bearer {token}"}, timeout=10
    ).status_code


@pytest.mark.parametrize("auth_method", ["client_secret_basic", "client_secret_post"])
def test_authlib_introspects_and_revokes_its_own_token(live_server, metadata, sessions, application, auth_method):
    app, secret = application
    assert auth_method in metadata["introspection_endpoint_auth_methods_supported"]
    session = sessions(
        AuthlibSession(
            app.client_id,
            secret,
            token_endpoint_auth_method=auth_method,
            revocation_endpoint_auth_method=auth_method,
        )
    )
    token = session.fetch_token(metadata["token_endpoint"], grant_type="client_credentials")["access_token"]

    active = session.introspect_token(metadata["introspection_endpoint"], token=token, token_type_hint="access_token")
    assert active.status_code == 200
    assert active.json()["active"] is True
    assert active.json()["client_id"] == app.client_id
    assert active.json()["iss"] == metadata["issuer"]
    assert api_status(live_server, token) == 200

    revoked = session.revoke_token(metadata["revocation_endpoint"], token=token, token_type_hint="access_token")
    assert revoked.status_code == 200

    assert api_status(live_server, token) == 401
    after = session.introspect_token(metadata["introspection_endpoint"], token=token)
    assert after.json() == {"active": False}


def test_authlib_cannot_revoke_or_see_another_clients_token(live_server, metadata, sessions, application, other):
    app, secret = application
    other_app, other_secret = other
    other_session = sessions(AuthlibSession(other_app.client_id, other_secret))
    other_token = other_session.fetch_token(metadata["token_endpoint"], grant_type="client_credentials")["access_token"]
    session = sessions(AuthlibSession(app.client_id, secret))

    assert session.introspect_token(metadata["introspection_endpoint"], token=other_token).json() == {"active": False}
    assert session.revoke_token(metadata["revocation_endpoint"], token=other_token).status_code == 200
    assert api_status(live_server, other_token) == 200


def test_authlib_with_a_wrong_secret_is_refused_with_invalid_client(live_server, metadata, sessions, application):
    app, _ = application
    session = sessions(AuthlibSession(app.client_id, "wrong"))

    introspected = session.introspect_token(metadata["introspection_endpoint"], token="abc")
    revoked = session.revoke_token(metadata["revocation_endpoint"], token="abc")

    for response in (introspected, revoked):
        assert response.status_code == 401
        assert response.json()["error"] == "invalid_client"


def test_requests_oauthlib_and_oauthlibs_client_revoke_a_token(live_server, metadata, sessions, application):
    app, secret = application
    client = BackendApplicationClient(client_id=app.client_id)
    session = sessions(OAuth2Session(client=client))
    token = session.fetch_token(token_url=metadata["token_endpoint"], client_id=app.client_id, client_secret=secret)
    assert session.get(live_server.url + "/api/credentials", timeout=10).status_code == 200

    # requests-oauthlib has no revocation call of its own: oauthlib's client prepares the RFC 7009 request.
    url, headers, body = client.prepare_token_revocation_request(
        metadata["revocation_endpoint"], token["access_token"], token_type_hint="access_token"
    )
    revoked = requests.post(url, data=body, headers=headers, auth=(app.client_id, secret), timeout=10)

    assert revoked.status_code == 200
    refused = session.get(live_server.url + "/api/credentials", timeout=10)
    assert refused.status_code == 401
    assert 'error="invalid_token"' in refused.headers["WWW-Authenticate"]


def test_requests_oauthlib_session_introspects_with_body_credentials(live_server, metadata, sessions, application):
    app, secret = application
    session = sessions(OAuth2Session(client=BackendApplicationClient(client_id=app.client_id)))
    token = session.fetch_token(token_url=metadata["token_endpoint"], client_id=app.client_id, client_secret=secret)

    response = requests.post(
        metadata["introspection_endpoint"],
        data={"token": token["access_token"], "client_id": app.client_id, "client_secret": secret},
        timeout=10,
    )

    assert response.status_code == 200
    answer = response.json()
    assert answer["active"] is True
    assert answer["scope"] == "read:credentials"
    assert abs(answer["exp"] - token["expires_at"]) <= 2


@pytest.fixture
def keyed_application(make_application):
    """An application with one key of the kind asked for, and that key's private key as joserfc's key object."""
    from joserfc.jwk import ECKey, OKPKey, RSAKey

    from applications.services import add_key
    from applications.tests.key_helpers import private_key, private_pem, public_pem
    from portal.actors import COMMAND_LINE

    def make(kind):
        app, _ = make_application(name=f"Keyed {kind}", scopes=["read:credentials"])
        private = private_key(kind)
        add_key(application=app, actor=COMMAND_LINE, public_key=public_pem(private))
        key_class = {"RS256": RSAKey, "ES256": ECKey, "EdDSA": OKPKey}[kind]
        return app, key_class.import_key(private_pem(private))

    return make


@pytest.mark.parametrize("kind", ["RS256", "ES256", "EdDSA"])
def test_authlibs_private_key_jwt_gets_introspects_and_revokes_a_token(
    live_server, metadata, sessions, keyed_application, kind
):
    from authlib.oauth2.rfc7523 import PrivateKeyJWT

    assert "private_key_jwt" in metadata["token_endpoint_auth_methods_supported"]
    assert kind in metadata["token_endpoint_auth_signing_alg_values_supported"]
    app, key = keyed_application(kind)
    # No token_endpoint given: each request's assertion names the endpoint it is sent to as its audience.
    auth = PrivateKeyJWT(alg=kind)
    session = sessions(
        AuthlibSession(app.client_id, key, token_endpoint_auth_method=auth, revocation_endpoint_auth_method=auth)
    )

    token = session.fetch_token(metadata["token_endpoint"], grant_type="client_credentials")["access_token"]
    active = session.introspect_token(metadata["introspection_endpoint"], token=token)
    assert api_status(live_server, token) == 200
    revoked = session.revoke_token(metadata["revocation_endpoint"], token=token)

    assert active.status_code == 200, active.text
    assert active.json()["active"] is True
    assert active.json()["client_id"] == app.client_id
    assert revoked.status_code == 200, revoked.text
    assert api_status(live_server, token) == 401
