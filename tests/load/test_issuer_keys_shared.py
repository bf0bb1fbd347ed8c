"""An issuer's keys are kept in the shared cache (contract §10): fetched by one server, they serve every worker of every
server on the same database and cache, and a restarted server fetches nothing."""

import json

import pytest
import requests

from applications.tests.issuer_helpers import DISCOVERY_PATH, JWKS_PATH, SUBJECT, LocalIssuer
from testing.databases import scratch_database
from testing.documents import DocumentServer
from testing.server import PortalServer, deployment_environment, manage

pytestmark = pytest.mark.load

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
AUDIENCE = "https://portal.example"


@pytest.fixture
def deployment(tmp_path):
    with scratch_database("issuer", tmp_path) as database_url, DocumentServer() as documents:
        issuer = LocalIssuer(documents)
        env = deployment_environment(DATABASE_URL=database_url, FEDERATION_INSECURE_ISSUERS=issuer.url)
        manage(env, "migrate", "--noinput", "-v", "0")
        manage(env, "createcachetable")
        manage(env, "createorgadmin", "--organization", "Keys", "--username", "k", "--password", "Keys-test-pass-1")
        scopes = "read:credentials read:applications update:applications"
        app = json.loads(
            manage(env, "createapplication", "--organization", "Keys", "--name", "CI", "--scopes", scopes, "--json")
        )
        yield env, issuer, app, tmp_path


def grant(base: str, client_id: str, token: str) -> int:
    body = {
        "grant_type": "client_credentials",
        "client_id": client_id,
        "client_assertion_type": JWT_BEARER,
        "client_assertion": token,
    }
    # A fresh connection each time: every worker of the server gets its turn.
    return requests.post(base + "/oauth/token", data=body, timeout=30).status_code


def add_credential(base: str, app: dict) -> None:
    answer = requests.post(
        base + "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(app["client_id"], app["client_secret"]),
        timeout=30,
    )
    headers = {"Authorization": f"Bearer {answer.json()['access_token']}"}
    [listed] = requests.get(base + "/api/applications", headers=headers, timeout=30).json()["results"]
    added = requests.post(
        f"{base}/api/applications/{listed['id']}/federated-credentials",
        json={"name": "main", "issuer": app["issuer"], "subject": SUBJECT, "audience": AUDIENCE},
        headers=headers,
        timeout=30,
    )
    assert added.status_code == 201, added.content


def test_one_servers_fetch_serves_every_worker_of_both_and_a_restart_fetches_nothing(deployment):
    env, issuer, app, tmp_path = deployment
    client_id = app["client_id"]
    with (
        (tmp_path / "a.log").open("w+") as log_a,
        (tmp_path / "b.log").open("w+") as log_b,
        PortalServer(env=env, workers=2, log=log_a) as a,
        PortalServer(env=env, workers=2, log=log_b) as b,
    ):
        add_credential(a.base, {**app, "issuer": issuer.url})
        assert (issuer.fetches(DISCOVERY_PATH), issuer.fetches(JWKS_PATH)) == (1, 1)

        assert {grant(base, client_id, issuer.token(AUDIENCE)) for base in (a.base, b.base) for _ in range(6)} == {200}
        assert issuer.fetches(JWKS_PATH) == 1

        # A new key: the first token signed with it fetches the keys once, at server B, for both servers.
        issuer.rotate()
        assert grant(b.base, client_id, issuer.token(AUDIENCE)) == 200
        assert {grant(base, client_id, issuer.token(AUDIENCE)) for base in (a.base, b.base) for _ in range(6)} == {200}
        assert issuer.fetches(JWKS_PATH) == 2

        b.stop()
        with PortalServer(env=env, workers=2, log=log_b) as restarted:
            assert {grant(restarted.base, client_id, issuer.token(AUDIENCE)) for _ in range(6)} == {200}
        assert issuer.fetches(JWKS_PATH) == 2
