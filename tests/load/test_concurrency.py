"""50 clients at once against the real multi-worker server (`python -m ops.serve`), on the suite's database
engine, and a revocation that every worker of two servers sees at once.

The server runs in its own processes on its own database (a SQLite file, or a
PostgreSQL database made for the test), so writes really contend.
"""

import http.client
import json
import threading
import time

import pytest
import requests

from testing.databases import scratch_database
from testing.server import PortalServer, deployment_environment, manage
from testing.waiting import wait_until

CLIENTS = 50

pytestmark = pytest.mark.load


def _server_env(database_url: str) -> dict:
    return deployment_environment(
        DATABASE_URL=database_url,
        SECRET_KEY="load-test-" + "x" * 40,
        # Every client shares 127.0.0.1; only failures count, and this test has none by design.
        TOKEN_FAILURE_LIMIT_PER_ADDRESS="100000,60",
    )


def _prepare(database_url: str, scopes: str, *names: str) -> tuple[dict, dict]:
    """Migrate the database, add an organization and its applications; returns the servers' env and each app."""
    env = _server_env(database_url)
    manage(env, "migrate", "--noinput", "-v", "0")
    manage(env, "createcachetable")
    manage(env, "createorgadmin", "--organization", "Load", "--username", "load", "--password", "Load-test-password-1")
    create = ["createapplication", "--organization", "Load", "--scopes", scopes, "--json", "--name"]
    return env, {name: json.loads(manage(env, *create, name)) for name in names}


@pytest.fixture
def database_url(tmp_path):
    with scratch_database("load", tmp_path) as url:
        yield url


@pytest.fixture
def server(database_url, tmp_path):
    """A migrated database with two applications, served with two workers."""
    every_scope = "read:credentials create:credentials read:applications delete:applications"
    env, apps = _prepare(database_url, every_scope, "survivor", "doomed")
    with (tmp_path / "server.log").open("w+") as log, PortalServer(env=env, workers=2, log=log) as server:
        yield server.base, apps, log


def test_fifty_clients_get_working_tokens_and_a_deleted_application_stops_at_once(server):
    base, apps, log = server
    results = []  # (app name, kind, status, started_at, answered_at)
    rounds = {}  # client number -> when its latest answered round (grant, then API call) began
    lock = threading.Lock()
    stop = threading.Event()

    def client(n):
        name = "doomed" if n % 2 else "survivor"
        app = apps[name]
        session = requests.Session()
        while not stop.is_set():
            round_started = started = time.monotonic()
            grant = session.post(
                base + "/oauth/token",
                data={"grant_type": "client_credentials"},
                auth=(app["client_id"], app["client_secret"]),
                timeout=30,
            )
            outcome = [(name, "grant", grant.status_code, started, time.monotonic())]
            if grant.status_code == 200:
                token = grant.json()["access_token"]
                started = time.monotonic()
                call = session.get(base + "/api/credentials", headers={"Authorization": f"Bearer {token}"}, timeout=30)
                outcome.append((name, "api", call.status_code, started, time.monotonic()))
            with lock:
                results.extend(outcome)
                rounds[n] = round_started

    def every_client_answered(since=float("-inf")):
        with lock:
            return len(rounds) == CLIENTS and min(rounds.values()) > since

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()

    try:
        wait_until(every_client_answered, timeout=60, what="every client answered once")
        survivor = apps["survivor"]
        token = requests.post(
            base + "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(survivor["client_id"], survivor["client_secret"]),
            timeout=30,
        ).json()["access_token"]
        doomed_id = next(
            item["id"]
            for item in requests.get(
                base + "/api/applications", headers={"Authorization": f"Bearer {token}"}, timeout=30
            ).json()["results"]
            if item["name"] == "doomed"
        )
        delete_started = time.monotonic()
        deleted = requests.delete(
            base + f"/api/applications/{doomed_id}", headers={"Authorization": f"Bearer {token}"}, timeout=30
        )
        deleted_at = time.monotonic()  # the deletion has committed once its response is here
        assert deleted.status_code == 204
        wait_until(
            lambda: every_client_answered(deleted_at), timeout=60, what="every client answered after the deletion"
        )
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)

    log.seek(0)
    server_log = log.read()
    assert "database is locked" not in server_log
    assert "Traceback" not in server_log, server_log[server_log.find("Traceback") - 500 :][:6000]
    assert all(status < 500 for _, _, status, _, _ in results), sorted({r[2] for r in results})
    assert len(results) > 100
    survivor_statuses = {status for name, _, status, _, _ in results if name == "survivor"}
    assert survivor_statuses == {200}
    after = [(kind, status) for name, kind, status, started, _ in results if name == "doomed" and started > deleted_at]
    assert after, "the doomed application's clients kept trying after its deletion"
    # Refused from then on: 401, and 429 once its failures lock the client ID out.
    assert {status for kind, status in after if kind == "grant"} <= {401, 429}
    assert {status for kind, status in after if kind == "api"} <= {401}
    # Answered before the deletion was sent: the application still existed.
    before = [status for name, _, status, _, answered in results if name == "doomed" and answered < delete_started]
    assert set(before) == {200}


@pytest.fixture
def two_servers(database_url, tmp_path):
    """Two servers of two workers each on one database, and two applications."""
    env, apps = _prepare(database_url, "read:credentials", "revoker", "bystander")
    with (
        (tmp_path / "a.log").open("w+") as log_a,
        (tmp_path / "b.log").open("w+") as log_b,
        PortalServer(env=env, workers=2, log=log_a) as a,
        PortalServer(env=env, workers=2, log=log_b) as b,
    ):
        yield a.base, b.base, apps


def test_a_token_revoked_on_one_server_fails_at_once_on_every_worker_of_every_server(two_servers):
    a, b, apps = two_servers
    session = requests.Session()

    def token_for(name):
        app = apps[name]
        credentials = (app["client_id"], app["client_secret"])
        response = session.post(
            a + "/oauth/token", data={"grant_type": "client_credentials"}, auth=credentials, timeout=30
        )
        assert response.status_code == 200, response.text
        return response.json()["access_token"]

    def api_statuses(token):
        # Enough requests on fresh connections to reach both workers of both servers.
        return {
            requests.get(
                base + "/api/credentials", headers={"Authorization": f"Bearer {token}"}, timeout=30
            ).status_code
            for base in (a, b)
            for _ in range(8)
        }

    revoker = (apps["revoker"]["client_id"], apps["revoker"]["client_secret"])
    token, bystander_token = token_for("revoker"), token_for("bystander")
    assert api_statuses(token) == {200}
    assert api_statuses(bystander_token) == {200}

    for revoked in (token, bystander_token):
        assert session.post(a + "/oauth/revoke", data={"token": revoked}, auth=revoker, timeout=30).status_code == 200

    assert api_statuses(token) == {401}
    assert api_statuses(bystander_token) == {200}
    introspected = session.post(b + "/oauth/introspect", data={"token": token}, auth=revoker, timeout=30)
    assert introspected.json() == {"active": False}


@pytest.fixture
def two_servers_behind_a_proxy(database_url, tmp_path):
    """Two servers of two workers each on one database, each taking 127.0.0.1 for a trusted proxy: the worker
    application, and a controller whose scopes include the worker's (so it may suspend and fence it in)."""
    env, apps = _prepare(database_url, "read:credentials", "worker")
    controller = ["createapplication", "--organization", "Load", "--json", "--name", "controller", "--scopes"]
    apps["controller"] = json.loads(manage(env, *controller, "read:credentials read:applications update:applications"))
    # Every refusal below counts as a failed authentication from 127.0.0.1: the limits are not what is tested.
    env.update(TRUSTED_PROXIES="127.0.0.1", TOKEN_FAILURE_LIMIT_PER_CLIENT_ADDRESS="100000,60")
    with (
        (tmp_path / "a.log").open("w+") as log_a,
        (tmp_path / "b.log").open("w+") as log_b,
        PortalServer(env=env, workers=2, log=log_a) as a,
        PortalServer(env=env, workers=2, log=log_b) as b,
    ):
        yield a, b, apps


def _forwarded(server, method: str, path: str, forwarded: list[str], headers: dict, body: str = "") -> int:
    """The status of a request carrying one X-Forwarded-For header line per entry of `forwarded`, on a fresh
    connection, as a proxy that adds its own header line (HAProxy's `option forwardfor`) sends it."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    connection.putrequest(method, path)
    for name, value in {**headers, "Content-Length": str(len(body))}.items():
        connection.putheader(name, value)
    for line in forwarded:
        connection.putheader("X-Forwarded-For", line)
    connection.endheaders(body.encode())
    status = connection.getresponse().status
    connection.close()
    return status


def test_suspension_and_networks_set_through_one_server_hold_on_the_others_next_request(two_servers_behind_a_proxy):
    a, b, apps = two_servers_behind_a_proxy
    worker, controller = apps["worker"], apps["controller"]
    worker_auth = (worker["client_id"], worker["client_secret"])

    def token_of(app, base):
        grant = requests.post(
            base + "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(app["client_id"], app["client_secret"]),
            timeout=30,
        )
        assert grant.status_code == 200, grant.text
        return grant.json()["access_token"]

    control = {"Authorization": f"Bearer {token_of(controller, a.base)}"}
    worker_id = next(
        item["id"]
        for item in requests.get(a.base + "/api/applications", headers=control, timeout=30).json()["results"]
        if item["name"] == "worker"
    )
    token = token_of(worker, a.base)

    def statuses(path="/api/credentials", **request):
        # Fresh connections, enough to reach both workers of both servers.
        method = "POST" if "data" in request else "GET"
        if method == "GET":
            request["headers"] = {"Authorization": f"Bearer {token}"}
        return {
            requests.request(method, server.base + path, timeout=30, **request).status_code
            for server in (a, b)
            for _ in range(8)
        }

    def change(body):
        response = requests.patch(a.base + f"/api/applications/{worker_id}", json=body, headers=control, timeout=30)
        assert response.status_code == 200, response.text
        return response.json()

    assert statuses() == {200}

    assert change({"suspended": True})["suspended"] is True
    assert statuses() == {401}
    grant = {"data": {"grant_type": "client_credentials"}, "auth": worker_auth}
    assert statuses("/oauth/token", **grant) == {401}
    assert statuses("/oauth/introspect", data={"token": token}, auth=worker_auth) == {401}
    assert statuses("/oauth/revoke", data={"token": token}, auth=worker_auth) == {401}

    assert change({"suspended": False})["suspended"] is False
    assert statuses() == {200}  # the very token issued before the suspension

    # Fenced in to one network: the forwarded address decides, on the other server's next request too. Two header
    # lines are joined by the server, the one the proxy added last being the nearest hop.
    assert change({"allowedNetworks": ["198.51.100.0/24"]})["allowedNetworks"] == ["198.51.100.0/24"]
    assert statuses() == {401}  # 127.0.0.1 with no header: the peer, outside
    bearer = {"Authorization": f"Bearer {token}"}
    for server in (a, b):
        assert _forwarded(server, "GET", "/api/credentials", ["198.51.100.7"], bearer) == 200
        assert _forwarded(server, "GET", "/api/credentials", ["203.0.113.9"], bearer) == 401
        assert _forwarded(server, "GET", "/api/credentials", ["198.51.100.7", "203.0.113.9"], bearer) == 401
        assert _forwarded(server, "GET", "/api/credentials", ["203.0.113.9", "198.51.100.7"], bearer) == 200
        basic = {
            "Authorization": requests.auth._basic_auth_str(*worker_auth),
            "Content-Type": "application/x-www-form-urlencoded",
        }
        body = "grant_type=client_credentials"
        assert _forwarded(server, "POST", "/oauth/token", ["198.51.100.7"], basic, body) == 200
        assert _forwarded(server, "POST", "/oauth/token", ["203.0.113.9"], basic, body) == 401
