"""200 wrong secrets at once against the portal's own server, two workers of 16 threads: exactly the limit answered 401.

The token endpoint only reads the counters before it checks a secret, and counts a failure
after (throttle/limits.py `check`). Each failure learns its own number from the atomic
increment, and one past the limit is answered 429 as the lockout it completes; so however
the requests interleave across processes and threads, exactly the limit get 401 and every
other answer is 429, the right secret's afterwards too.
"""

import json
import threading

import pytest
import requests

from testing.databases import scratch_database
from testing.server import PortalServer, deployment_environment, manage

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
    with (
        (tmp_path / "server.log").open("w+") as log,
        PortalServer(env=env, workers=2, options=["--threads", "16"], log=log) as server,
    ):
        yield server.base, application, log


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
