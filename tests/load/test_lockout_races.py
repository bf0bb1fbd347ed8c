"""200 wrong secrets at once against a real multi-worker, multi-threaded gunicorn: exactly the limit get checked.

Each attempt takes its place in the counters before its secret is checked, so
however the requests interleave across processes and threads, the limit-th
failure is the last one checked; every other answer is 429.
"""

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from django.conf import settings

from testing.databases import scratch_database
from testing.server import deployment_environment, free_port, manage

ROOT = Path(settings.BASE_DIR)
PARALLEL = 200
LIMIT = 10

pytestmark = pytest.mark.load


@pytest.fixture
def database_url(tmp_path):
    with scratch_database("races", tmp_path) as url:
        yield url


@pytest.fixture(params=["database", "redis"])
def server(request, database_url, tmp_path):
    env = deployment_environment(
        DATABASE_URL=database_url,
        SECRET_KEY="races-" + "x" * 40,
        TOKEN_FAILURE_LIMIT_PER_CLIENT_ADDRESS=f"{LIMIT},300",
        TOKEN_FAILURE_LIMIT_PER_ADDRESS="100000,300",
    )
    if request.param == "redis":
        env["CACHE_URL"] = request.getfixturevalue("redis_url")

    manage(env, "migrate", "--noinput", "-v", "0")
    admin = ["createorgadmin", "--organization", "Races", "--username", "races", "--password", "Races-test-password-1"]
    manage(env, *admin)
    create = ["createapplication", "--organization", "Races", "--name", "Target", "--scopes", "read:credentials"]
    application = json.loads(manage(env, *create, "--json"))
    port = free_port()
    log = (tmp_path / "gunicorn.log").open("w+")
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    process = subprocess.Popen(
        [
            gunicorn,
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--threads",
            "16",
            "--no-control-socket",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                requests.get(base + "/accounts/login/", timeout=2)
                break
            except requests.RequestException:
                time.sleep(0.1)
        yield base, application, log
    finally:
        process.terminate()
        process.wait(timeout=15)
        log.close()


def test_two_hundred_parallel_failures_lock_at_exactly_the_limit(server):
    base, application, log = server
    start = threading.Barrier(PARALLEL)
    statuses = []
    lock = threading.Lock()

    def guess():
        start.wait()
        response = requests.post(
            base + "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(application["client_id"], "wrong-secret"),
            timeout=60,
        )
        with lock:
            statuses.append(response.status_code)

    threads = [threading.Thread(target=guess) for _ in range(PARALLEL)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    log.seek(0)
    server_log = log.read()
    assert "Traceback" not in server_log, server_log[server_log.find("Traceback") - 500 :][:6000]
    assert sorted(set(statuses)) == [401, 429]
    assert statuses.count(401) == LIMIT
    assert statuses.count(429) == PARALLEL - LIMIT
    right_secret = requests.post(
        base + "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(application["client_id"], application["client_secret"]),
        timeout=30,
    )
    assert right_secret.status_code == 429
