"""`python -m ops.serve`: its defaults, the metrics directory it prepares, and requests through the real
server (two workers on a database and a Redis of their own): bodies sent chunked, and a full Redis as every
worker sees it. Faults under load run in tests/faults."""

import http.client
import io
import json
import os
import re
import select
import socket
import subprocess
import sys
import time
from urllib.parse import urlencode

import pytest
import redis
import requests

from api.examples import VERIFIABLE_CREDENTIAL
from ops import serve
from testing.databases import scratch_database
from testing.server import ROOT, PortalServer, deployment_environment, free_port, manage
from testing.throwaway import RedisServer, wait_for_port

METRICS_TOKEN = "metrics-token-for-tests"
PASSWORD = "Served-password-1"


def test_defaults_follow_make_run(monkeypatch):
    for name in ("HOST", "PORT", "WORKERS", "THREADS"):
        monkeypatch.delenv(name, raising=False)

    args = serve.parse_args([])

    assert (args.host, args.port, args.threads) == ("127.0.0.1", 8000, 2)
    assert args.workers == (os.cpu_count() or 2)
    assert args.graceful_timeout < 30  # SIGTERM exits within 30 s (contract §8)


def test_the_environment_sets_address_and_workers(monkeypatch):
    monkeypatch.setenv("HOST", "0.0.0.0")
    monkeypatch.setenv("PORT", "9000")
    monkeypatch.setenv("WORKERS", "3")

    args = serve.parse_args([])

    assert (args.host, args.port, args.workers) == ("0.0.0.0", 9000, 3)


def test_a_given_metrics_directory_is_emptied_at_start(monkeypatch, tmp_path):
    stale = tmp_path / "counter_1234.db"
    stale.write_bytes(b"old totals")
    keep = tmp_path / "README"
    keep.write_text("not a metrics file")
    monkeypatch.setenv(serve.METRICS_DIR_VARIABLE, str(tmp_path))

    assert serve.prepare_metrics_dir() == tmp_path
    assert not stale.exists() and keep.exists()


def test_without_a_metrics_directory_a_fresh_one_is_made():
    assert serve.METRICS_DIR_VARIABLE not in os.environ

    path = serve.prepare_metrics_dir()
    try:
        assert path.is_dir() and list(path.iterdir()) == []
        assert os.environ[serve.METRICS_DIR_VARIABLE] == str(path)
    finally:
        # Set by the code, not by monkeypatch: removed by hand, or later servers would inherit it.
        os.environ.pop(serve.METRICS_DIR_VARIABLE, None)
        path.rmdir()


# --- The process environment is no part of a request ----------------------------------------------------------


def test_a_request_under_granian_carries_none_of_the_servers_process_environment(tmp_path):
    port = free_port()
    env = {**os.environ, "DATABASE_URL": "postgres://portal:s3cret@db.internal/portal", "HTTP_X_FROM_PROCESS": "1"}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "granian",
            "--interface",
            "wsgi",
            "--port",
            str(port),
            "ops.tests.environ_app:application",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_port(port)
        bare = requests.get(f"http://127.0.0.1:{port}/bare", timeout=10).text.split()
        kept = requests.get(f"http://127.0.0.1:{port}/", headers={"X-Sent": "1"}, timeout=10).text.split()
    finally:
        server.terminate()
        server.wait(timeout=10)

    # granian copies its process environment into every request's environ: the middleware is what keeps it out.
    assert {"DATABASE_URL", "PATH", "HTTP_X_FROM_PROCESS"} <= set(bare)
    assert not {"DATABASE_URL", "PATH", "HOME", "HTTP_X_FROM_PROCESS"} & set(kept)
    assert {"REQUEST_METHOD", "PATH_INFO", "QUERY_STRING", "REMOTE_ADDR", "HTTP_X_SENT", "wsgi.input"} <= set(kept)


def test_a_header_the_request_sent_is_kept_even_where_the_process_has_the_same_name():
    seen = {}

    def app(environ, start_response):
        seen.update(environ)
        return []

    left_out = serve.ProcessEnvironmentLeftOut(app, environment={"HTTP_X_TRACE": "process", "SECRET_KEY": "k"})
    left_out({"HTTP_X_TRACE": "request", "SECRET_KEY": "k", "REQUEST_METHOD": "GET"}, None)

    assert seen == {"HTTP_X_TRACE": "request", "REQUEST_METHOD": "GET"}


def test_the_portals_wsgi_application_leaves_the_process_environment_out():
    from config.wsgi import application

    assert isinstance(application, serve.ProcessEnvironmentLeftOut)


# --- Bodies without a Content-Length ---------------------------------------------------------------------------


def run_app(environ: dict) -> tuple[str, dict]:
    """Calls ChunkedBodies around an application that answers with the CONTENT_LENGTH and the body it was given."""
    seen = {}

    def app(environ, start_response):
        seen["length"] = environ.get("CONTENT_LENGTH")
        seen["body"] = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        start_response("200 OK", [])
        return [b""]

    status = []
    serve.ChunkedBodies(app)(environ, lambda line, headers: status.append(line))
    return status[0], seen


def test_a_body_without_a_length_is_read_and_handed_on_with_its_length():
    environ = {"HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input_terminated": True, "wsgi.input": io.BytesIO(b"a=1")}

    assert run_app(environ) == ("200 OK", {"length": "3", "body": b"a=1"})


def test_a_body_without_a_length_is_read_no_further_than_the_upload_limit(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    stream = io.BytesIO(b"x" * 5000)
    environ = {"HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input_terminated": True, "wsgi.input": stream}

    status, seen = run_app(environ)

    assert seen["length"] == "1001"
    assert stream.tell() == 1001


def test_a_body_without_a_length_on_a_server_that_cannot_end_it_is_411():
    environ = {"HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input": io.BytesIO(b"a=1")}

    assert run_app(environ) == ("411 Length Required", {})


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """Two workers on a migrated database with an admin and an application, counting failures in a Redis."""
    directory = tmp_path_factory.mktemp("served")
    cache = RedisServer("--maxmemory-policy", "noeviction").start()
    with scratch_database("served", directory) as database_url:
        env = deployment_environment(
            DATABASE_URL=database_url, SECRET_KEY="served-" + "x" * 40, CACHE_URL=cache.url, METRICS_TOKEN=METRICS_TOKEN
        )
        manage(env, "migrate", "--noinput", "-v", "0")
        manage(env, "createorgadmin", "--organization", "Served", "--username", "admin", "--password", PASSWORD)
        scopes = "read:credentials create:credentials"
        app = json.loads(
            manage(env, "createapplication", "--organization", "Served", "--scopes", scopes, "--json", "--name", "A")
        )
        log_path = directory / "server.log"
        with log_path.open("w") as log, PortalServer(env=env, workers=2, log=log) as server:
            yield server, app, cache, log_path
    cache.close()


def send_chunked(server, method: str, path: str, body: bytes, headers: dict) -> http.client.HTTPResponse:
    """`body` in three chunks with Transfer-Encoding: chunked and no Content-Length, as curl sends a stream."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    thirds = [body[: len(body) // 3], body[len(body) // 3 : 2 * len(body) // 3], body[2 * len(body) // 3 :]]
    connection.request(method, path, body=iter(thirds), headers=headers, encode_chunked=True)
    response = connection.getresponse()
    response.content = response.read()
    connection.close()
    return response


def token_body(app, as_json: bool) -> tuple[bytes, dict]:
    fields = {"grant_type": "client_credentials", "client_id": app["client_id"], "client_secret": app["client_secret"]}
    if as_json:
        return json.dumps(fields).encode(), {"Content-Type": "application/json"}
    return urlencode(fields).encode(), {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.mark.parametrize("as_json", [True, False], ids=["json", "form"])
def test_a_chunked_body_gets_a_token_as_a_plain_one_does(served, as_json):
    server, app, _, _ = served
    body, headers = token_body(app, as_json)

    response = send_chunked(server, "POST", "/oauth/token", body, headers)

    assert response.status == 200, response.content
    assert json.loads(response.content)["access_token"].startswith("ipat_")


@pytest.mark.parametrize("path", ["/oauth/introspect", "/oauth/revoke"])
def test_chunked_bodies_reach_revocation_and_introspection(served, path):
    server, app, _, _ = served
    grant = requests.post(
        f"{server.base}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(app["client_id"], app["client_secret"]),
    )
    token = grant.json()["access_token"]
    body = urlencode({"token": token, "client_id": app["client_id"], "client_secret": app["client_secret"]}).encode()

    response = send_chunked(server, "POST", path, body, {"Content-Type": "application/x-www-form-urlencoded"})

    assert response.status == 200, response.content
    if path == "/oauth/introspect":
        assert json.loads(response.content)["active"] is True
    else:
        assert (
            requests.get(f"{server.base}/api/credentials", headers={"Authorization": f"Bearer {token}"}).status_code
            == 401
        )


def test_a_chunked_json_body_reaches_the_api(served):
    server, app, _, _ = served
    grant = requests.post(
        f"{server.base}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(app["client_id"], app["client_secret"]),
    )
    body = json.dumps({"verifiableCredential": VERIFIABLE_CREDENTIAL}).encode()
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {grant.json()['access_token']}"}

    response = send_chunked(server, "POST", "/api/credentials", body, headers)

    assert response.status == 201, response.content
    assert json.loads(response.content)["verifiableCredential"] == VERIFIABLE_CREDENTIAL


def test_a_chunked_sign_in_form_signs_in(served):
    server, _, _, _ = served
    session = requests.Session()
    page = session.get(f"{server.base}/accounts/login/")
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    body = urlencode({"csrfmiddlewaretoken": csrf, "username": "admin", "password": PASSWORD}).encode()
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": f"csrftoken={session.cookies['csrftoken']}",
        "Referer": f"{server.base}/accounts/login/",
    }

    response = send_chunked(server, "POST", "/accounts/login/", body, headers)

    assert response.status == 302, response.content
    assert "sessionid=" in response.getheader("Set-Cookie")


def test_a_chunked_body_over_the_token_request_limit_is_invalid_request(served):
    server, app, _, _ = served
    body = urlencode({"grant_type": "client_credentials", "client_id": app["client_id"], "pad": "x" * 20_000}).encode()

    response = send_chunked(server, "POST", "/oauth/token", body, {"Content-Type": "application/x-www-form-urlencoded"})

    assert response.status == 400
    assert json.loads(response.content) == {
        "error": "invalid_request",
        "error_description": "The request body is too large.",
    }


def test_an_endless_chunked_body_is_answered_before_it_ends(served):
    server, _, _, _ = served
    head = b"POST /oauth/token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    chunk = b"x" * 65536
    ceiling = 256 * 1024 * 1024  # a hundred times Django's upload limit
    sent = 0
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(head + b"Transfer-Encoding: chunked\r\n\r\n")
        while sent < ceiling and not select.select([sock], [], [], 0)[0]:
            try:
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            except OSError:  # the server closed the connection after answering
                break
            sent += len(chunk)
        answer = http.client.HTTPResponse(sock)
        answer.begin()
        content = answer.read()

    assert sent < ceiling
    assert answer.status == 400
    assert json.loads(content)["error_description"] == "The request body is too large."


def test_a_chunked_body_over_the_upload_limit_is_413_at_the_api(served):
    server, app, _, _ = served
    grant = requests.post(
        f"{server.base}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(app["client_id"], app["client_secret"]),
    )
    body = json.dumps({"verifiableCredential": VERIFIABLE_CREDENTIAL, "pad": "x" * 3_000_000}).encode()
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {grant.json()['access_token']}"}

    response = send_chunked(server, "POST", "/api/credentials", body, headers)

    assert response.status == 413
    assert json.loads(response.content) == {"detail": "The request body is too large."}


# --- Redis full at maxmemory, as every worker sees it ----------------------------------------------------------


def test_a_full_redis_shows_on_every_worker_in_readyz_the_metric_and_the_log(served):
    server, app, cache, log_path = served
    client = redis.Redis.from_url(cache.url)
    client.config_set("maxmemory", 1)  # far below what it holds: every write is refused (OOM)
    try:
        # A fresh connection each time: the two workers share the answers.
        answers = [requests.get(f"{server.base}/readyz", headers={"Connection": "close"}) for _ in range(12)]
        wrong = [
            requests.post(
                f"{server.base}/oauth/token",
                data={"grant_type": "client_credentials"},
                auth=(app["client_id"], "wrong"),
            ).status_code
            for _ in range(6)
        ]
        metrics = requests.get(f"{server.base}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).text
    finally:
        client.config_set("maxmemory", 0)

    assert {(a.status_code, a.json()["checks"]["cache"]) for a in answers} == {(200, "failing")}
    assert wrong == [401] * 6
    failures = float(re.search(r"^portal_brute_force_counter_failures_total (\S+)$", metrics, re.MULTILINE).group(1))
    assert failures >= 1
    assert "brute-force limits are OFF" in log_path.read_text()
    deadline = time.monotonic() + 5  # contract §8: all "ok" within 5 seconds of Redis' return
    while requests.get(f"{server.base}/readyz").json()["checks"]["cache"] != "ok":
        assert time.monotonic() < deadline, "readyz still says the cache is failing"
        time.sleep(0.1)
