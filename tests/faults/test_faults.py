"""Contract §8 from outside: two servers from one checkout on a throwaway PostgreSQL cluster and
a redis-server, under a steady load of grants, API calls and application creation, through
a PostgreSQL restart, a Redis stop and start, and a worker killed with SIGKILL; then the
slow-client rule and a graceful SIGTERM.

Run alone with `pytest -m faults`. The tests of this module share one set-up and run in order.
"""

import json
import os
import re
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
import requests

from testing.server import PortalServer, accept_queue, deployment_environment, manage
from testing.slowclients import measure
from testing.throwaway import PostgresCluster, RedisServer
from testing.waiting import wait_until

pytestmark = pytest.mark.faults

SCOPES = "read:credentials create:credentials"
PASSWORD = "Fault-test-password-1"
RECOVERY_LIMIT = 5.0  # seconds after the fault ends until every server answers normally (§8)
HANG_LIMIT = 10.0  # no request may take longer, outage or not (§8)
FIGURES: dict[str, str] = {}  # printed at the end of the module: outage and recovery per fault


@dataclass
class Outcome:
    kind: str  # grant, api, create
    server: int
    started: float
    seconds: float
    status: int | None  # None: no HTTP answer
    error: str = ""


@dataclass
class Stack:
    postgres: PostgresCluster
    redis: RedisServer
    servers: list[PortalServer]
    apps: list[dict]  # createapplication's JSON: client_id, client_secret
    logs: Path  # the folder of the servers' logs, server-<n>.log


@dataclass
class Traffic:
    """The steady load: grant-then-API loops on both servers, and one admin creating applications."""

    servers: list
    apps: list[dict]
    outcomes: list[Outcome] = field(default_factory=list)
    tokens: list[tuple[int, str]] = field(default_factory=list)  # (server, token) answered 200
    created: list[tuple[str, str, float]] = field(default_factory=list)  # (client ID, secret, began): a reveal
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    threads: list[threading.Thread] = field(default_factory=list)
    begun: dict[str, float] = field(default_factory=dict)  # loop (thread name) -> when its latest request began

    def start(self) -> None:
        self.threads = [threading.Thread(target=self.grants, args=(n,), daemon=True) for n in range(4)]
        self.threads.append(threading.Thread(target=self.creations, daemon=True))
        for thread in self.threads:
            thread.start()

    def halt(self) -> None:
        """Stop every loop and wait for it: its last request is recorded."""
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)

    def settled_since(self, moment: float) -> bool:
        """Every loop has begun a request after `moment`: whatever one began before is answered and recorded."""
        with self.lock:
            return len(self.begun) == len(self.threads) and min(self.begun.values()) > moment

    def _call(self, kind, server, session, method, path, **kwargs):
        started = time.monotonic()
        with self.lock:
            self.begun[threading.current_thread().name] = started
        try:
            response = session.request(method, self.servers[server].base + path, timeout=HANG_LIMIT + 5, **kwargs)
            outcome = Outcome(kind, server, started, time.monotonic() - started, response.status_code)
        except requests.RequestException as error:
            response = None
            outcome = Outcome(kind, server, started, time.monotonic() - started, None, type(error).__name__)
        with self.lock:
            self.outcomes.append(outcome)
        return response

    def grants(self, number: int) -> None:
        session = requests.Session()
        app = self.apps[number % len(self.apps)]
        server = number % len(self.servers)
        while not self.stop.is_set():
            server = (server + 1) % len(self.servers)
            grant = self._call(
                "grant",
                server,
                session,
                "POST",
                "/oauth/token",
                data={"grant_type": "client_credentials"},
                auth=(app["client_id"], app["client_secret"]),
            )
            if grant is not None and grant.status_code == 200:
                token = grant.json()["access_token"]
                with self.lock:
                    self.tokens.append((server, token))
                self._call(
                    "api", server, session, "GET", "/api/credentials", headers={"Authorization": f"Bearer {token}"}
                )
            self.stop.wait(0.05)

    def creations(self) -> None:
        sessions = [requests.Session() for _ in self.servers]
        number = 0
        while not self.stop.is_set():
            server = number % len(self.servers)
            number += 1
            session = sessions[server]
            page = self._call("create", server, session, "GET", "/integrations/applications/new/")
            if page is not None and page.status_code == 200 and "/accounts/login/" in page.url:
                page = self._sign_in(server, session)
            if page is None or page.status_code != 200 or 'name="form_token"' not in page.text:
                self.stop.wait(0.3)
                continue
            fields = dict(re.findall(r'name="(csrfmiddlewaretoken|form_token)" value="([^"]+)"', page.text))
            began = time.monotonic()
            reveal = self._call(
                "create",
                server,
                session,
                "POST",
                "/integrations/applications/new/",
                data={**fields, "name": f"Fault app {number}", "description": "", "scopes": ["read:credentials"]},
                headers={"Referer": self.servers[server].base + "/integrations/applications/new/"},
            )
            if reveal is not None and reveal.status_code == 200:
                found = dict(re.findall(r'data-testid="(client-id|client-secret)">([^<]+)<', reveal.text))
                if len(found) == 2:
                    with self.lock:
                        self.created.append((found["client-id"], found["client-secret"], began))
            self.stop.wait(0.3)

    def _sign_in(self, server, session):
        page = session.get(self.servers[server].base + "/accounts/login/", timeout=HANG_LIMIT)
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        if not csrf:
            return None
        return self._call(
            "create",
            server,
            session,
            "POST",
            "/accounts/login/?next=/integrations/applications/new/",
            data={"csrfmiddlewaretoken": csrf.group(1), "username": "faults", "password": PASSWORD},
            headers={"Referer": self.servers[server].base + "/accounts/login/"},
        )

    def since(self, moment: float) -> list[Outcome]:
        with self.lock:
            return [o for o in self.outcomes if o.started >= moment]


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    logs = tmp_path_factory.mktemp("faults")
    postgres = PostgresCluster().create()
    redis = RedisServer().start()
    env = deployment_environment(
        DATABASE_URL=postgres.url,
        CACHE_URL=redis.url,
        SECRET_KEY="fault-tests-" + "x" * 40,
        # Every client here shares 127.0.0.1; failures are few by design.
        TOKEN_FAILURE_LIMIT_PER_ADDRESS="100000,60",
        LOG_FORMAT="json",
        METRICS_TOKEN="fault-metrics",
    )
    servers = []
    try:
        manage(env, "migrate", "--noinput", "-v", "0", timeout=300)
        admin = ["createorgadmin", "--organization", "Faults", "--username", "faults", "--password", PASSWORD]
        manage(env, *admin, timeout=300)
        create = ["createapplication", "--organization", "Faults", "--scopes", SCOPES, "--json", "--name"]
        apps = [json.loads(manage(env, *create, name, timeout=300)) for name in ("steady one", "steady two")]
        for number in range(2):
            log = (logs / f"server-{number}.log").open("w+")
            servers.append(PortalServer(env=env, workers=2, log=log, ready_path="/healthz").start())
        yield Stack(postgres=postgres, redis=redis, servers=servers, apps=apps, logs=logs)
    finally:
        for server in servers:
            server.stop()
            server.log.close()
        redis.close()
        postgres.destroy()
        for name, figure in FIGURES.items():
            print(f"\n[faults] {name}: {figure}")


@pytest.fixture(scope="module")
def traffic(stack):
    load = Traffic(servers=stack.servers, apps=stack.apps)
    load.start()
    wait_until(
        lambda: running_normally(load, since=float("-inf")), timeout=60, what="the steady load running on every server"
    )
    yield load
    load.halt()


def running_normally(traffic, *, since: float) -> bool:
    """Since `since`, every server has issued a token and served the API, and the portal has created an application."""
    done = {(o.server, o.kind) for o in traffic.since(since) if o.status == 200}
    every_server = all({(n, "grant"), (n, "api")} <= done for n in range(len(traffic.servers)))
    with traffic.lock:
        return every_server and any(began >= since for _, _, began in traffic.created)


def readyz(server) -> tuple[int | None, dict]:
    try:
        response = requests.get(server.base + "/readyz", timeout=HANG_LIMIT)
        return response.status_code, response.json()
    except (requests.RequestException, ValueError):
        return None, {}


def answers_normally(server, app) -> bool:
    try:
        grant = requests.post(
            server.base + "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(app["client_id"], app["client_secret"]),
            timeout=HANG_LIMIT,
        )
        if grant.status_code != 200:
            return False
        api = requests.get(
            server.base + "/api/credentials",
            headers={"Authorization": f"Bearer {grant.json()['access_token']}"},
            timeout=HANG_LIMIT,
        )
        status, body = readyz(server)
        return api.status_code == 200 and status == 200 and body["checks"] == {"database": "ok", "cache": "ok"}
    except requests.RequestException:
        return False


def wait_until_normal(servers, app, since: float) -> float:
    """Seconds from `since` until every server grants, serves the API and is ready with every check ok."""
    deadline = since + RECOVERY_LIMIT + 5
    pending = set(range(len(servers)))
    while pending and time.monotonic() < deadline:
        pending = {n for n in pending if not answers_normally(servers[n], app)}
        if pending:
            time.sleep(0.1)
    assert not pending, f"servers {sorted(pending)} not normal {RECOVERY_LIMIT + 5:.0f} s after the fault ended"
    return time.monotonic() - since


def assert_degraded_not_failed(outcomes: list[Outcome], *, connection_errors_allowed: bool = False) -> None:
    statuses = sorted({o.status for o in outcomes if o.status is not None})
    assert all(s < 500 or s == 503 for s in statuses), statuses
    slowest = max((o.seconds for o in outcomes), default=0)
    assert slowest < HANG_LIMIT, f"a request took {slowest:.1f} s"
    errors = [o for o in outcomes if o.status is None]
    if not connection_errors_allowed:
        assert errors == [], errors[:5]


def test_postgres_restart_answers_503_then_recovers_by_itself(stack, traffic):
    started = time.monotonic()
    stack.postgres.stop("fast")  # returns once PostgreSQL is down
    status, body = readyz(stack.servers[0])
    assert status == 503 and body["checks"]["database"] == "failing"
    assert body["status"] == "failing"
    # Down until the steady load has met the outage on every server, and whatever it began by then is answered.
    wait_until(
        lambda: {o.server for o in traffic.since(started) if o.status == 503} == set(range(len(stack.servers))),
        timeout=HANG_LIMIT,
        what="a 503 from every server while PostgreSQL is down",
    )
    met = time.monotonic()
    wait_until(lambda: traffic.settled_since(met), timeout=HANG_LIMIT, what="the requests begun meanwhile answered")
    stack.postgres.start()
    back = time.monotonic()

    recovery = wait_until_normal(stack.servers, stack.apps[0], back)

    outcomes = traffic.since(started)
    assert_degraded_not_failed(outcomes)
    during = [o for o in outcomes if o.started < back]
    assert any(o.status == 503 for o in during), "no request saw the outage"
    unavailable = [o.seconds for o in during if o.status == 503]
    FIGURES["PostgreSQL restart"] = (
        f"down {back - started:.1f} s; {len(unavailable)} requests answered 503 meanwhile, slowest in "
        f"{max(unavailable) * 1000:.0f} ms; every server normal {recovery:.2f} s after PostgreSQL was back"
    )
    assert recovery < RECOVERY_LIMIT


def test_redis_down_keeps_grants_api_and_sign_in_working(stack, traffic):
    started = time.monotonic()
    stack.redis.stop()  # returns once redis-server has exited
    down = time.monotonic()
    for server in stack.servers:
        status, body = readyz(server)
        assert status == 200 and body == {"status": "ok", "checks": {"database": "ok", "cache": "failing"}}
        assert answers_normally(server, stack.apps[1]) is False  # readiness reports the cache, so not "normal"
    # Down until the steady load has run on every server without it.
    wait_until(lambda: running_normally(traffic, since=down), timeout=HANG_LIMIT, what="the load without Redis")
    during = traffic.since(started)
    stack.redis.start()
    back = time.monotonic()

    recovery = wait_until_normal(stack.servers, stack.apps[1], back)

    assert_degraded_not_failed(traffic.since(started))
    # While Redis was away every request still succeeded: the brute-force checks were skipped.
    assert {o.status for o in during if o.kind in ("grant", "api")} == {200}
    assert any(o.kind == "create" and o.status in (200, 302) for o in during), "the portal did not work"
    warnings = [
        json.loads(line)
        for path in stack.logs.glob("server-*.log")
        for line in path.read_text().splitlines()
        if '"throttle.limits"' in line and "Brute-force counters unavailable" in line
    ]
    assert warnings and all(w["level"] == "WARNING" for w in warnings)
    FIGURES["Redis stop and start"] = (
        f"down {back - started:.1f} s with no failed request ({len(during)} requests); "
        f"every server normal {recovery:.2f} s after Redis was back"
    )
    assert recovery < RECOVERY_LIMIT


def test_a_killed_worker_is_replaced_and_the_server_keeps_serving(stack, traffic):
    server = stack.servers[0]
    victim = server.worker_pids()[0]
    started = time.monotonic()
    os.kill(victim, signal.SIGKILL)
    deadline = started + RECOVERY_LIMIT
    while time.monotonic() < deadline:
        workers = server.worker_pids()
        if len(workers) == 2 and victim not in workers:
            break
        time.sleep(0.05)
    replaced = time.monotonic() - started
    assert victim not in server.worker_pids() and len(server.worker_pids()) == 2

    recovery = wait_until_normal(stack.servers, stack.apps[0], started)
    normal = time.monotonic()
    wait_until(lambda: traffic.settled_since(normal), timeout=HANG_LIMIT, what="the requests in flight answered")

    outcomes = traffic.since(started)
    # Requests the killed worker had in hand lose their connection; nothing else fails.
    assert_degraded_not_failed(outcomes, connection_errors_allowed=True)
    lost = [o for o in outcomes if o.status is None]
    assert len(lost) <= 5, lost
    assert all(o.status is not None for o in outcomes if o.started > started + 0.5)
    FIGURES["worker killed with SIGKILL"] = (
        f"replaced after {replaced:.2f} s; {len(lost)} in-flight requests lost their connection; "
        f"every server normal {recovery:.2f} s after the kill"
    )


def test_every_issued_token_works_and_every_application_is_whole(stack, traffic):
    # Enough of the load's work to check, faults or not in between.
    wait_until(lambda: len(traffic.tokens) > 50 and len(traffic.created) >= 3, timeout=60, what="tokens and creations")
    traffic.halt()

    session = requests.Session()
    refused = []
    for server, token in traffic.tokens:
        response = session.get(
            stack.servers[server].base + "/api/credentials",
            headers={"Authorization": f"Bearer {token}"},
            timeout=HANG_LIMIT,
        )
        if response.status_code != 200:
            refused.append(response.status_code)
    assert refused == [], f"{len(refused)} of {len(traffic.tokens)} tokens refused"

    for client_id, secret, _ in traffic.created:
        grant = session.post(
            stack.servers[0].base + "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(client_id, secret),
            timeout=HANG_LIMIT,
        )
        assert grant.status_code == 200, (client_id, grant.text)

    with psycopg.connect(stack.postgres.url) as connection:
        rows = connection.execute(
            "SELECT a.client_id, a.client_secret, "
            "  (SELECT COUNT(*) FROM applications_auditevent e WHERE e.application_id = a.id AND e.action = 'created') "
            "FROM applications_application a"
        ).fetchall()
    created_ids = {client_id for client_id, _, _ in traffic.created}
    assert created_ids <= {row[0] for row in rows}
    for client_id, stored_secret, created_events in rows:
        assert stored_secret.startswith("sha256_salted$"), client_id
        if client_id in created_ids:
            assert created_events == 1, client_id
    # /metrics adds up every worker of a server, the one killed and its replacement included.
    metrics = session.get(
        stack.servers[0].base + "/metrics", headers={"Authorization": "Bearer fault-metrics"}, timeout=HANG_LIMIT
    ).text
    issued = float(re.search(r'^portal_token_requests_total\{result="issued"\} (\S+)$', metrics, re.M).group(1))
    unavailable = re.search(r'^portal_token_requests_total\{result="temporarily_unavailable"\} (\S+)$', metrics, re.M)
    answered = sum(1 for o in traffic.outcomes if o.kind == "grant" and o.server == 0 and o.status == 200)
    assert issued >= answered
    assert unavailable and float(unavailable.group(1)) >= 1
    FIGURES["after the faults"] = (
        f"{len(traffic.tokens)} tokens answered 200, all still valid; {len(traffic.created)} applications "
        f"created through the portal, all whole; {len(rows)} applications in the database, none half-made"
    )


def test_slow_and_idle_clients_do_not_stall_the_server(stack):

    result = measure(stack.servers[0].port, path="/healthz", trickling=200, idle=200, interval=2.0, seconds=8.0)

    FIGURES["200 trickling + 200 idle connections"] = result.describe()
    assert result.failures == []
    assert len(result.latencies) >= 20
    assert result.worst < 1.0, result.describe()


def test_sigterm_lets_requests_in_flight_finish_and_exits_within_30_seconds(stack):
    server = stack.servers[1]
    # As many sign-ins as one worker runs at once (--threads 2): wherever the server hands them, each is begun.
    clients = 2
    fetched = threading.Barrier(clients + 1)
    results = []

    def sign_in():
        session = requests.Session()
        page = session.get(server.base + "/accounts/login/", timeout=HANG_LIMIT)
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        fetched.wait(timeout=30)
        try:
            response = session.post(
                server.base + "/accounts/login/",
                data={"csrfmiddlewaretoken": csrf, "username": "faults", "password": PASSWORD},
                headers={"Referer": server.base + "/accounts/login/"},
                allow_redirects=False,
                timeout=30,
            )
            results.append(response.status_code)
        except requests.RequestException as error:
            results.append(type(error).__name__)

    threads = [threading.Thread(target=sign_in) for _ in range(clients)]
    with psycopg.connect(stack.postgres.url, autocommit=True) as watcher, psycopg.connect(stack.postgres.url) as holder:
        # Each sign-in reads its user inside the worker: with the users' table locked it waits there, begun, until
        # this test lets it go on, and PostgreSQL shows it waiting.
        for thread in threads:
            thread.start()
        fetched.wait(timeout=30)  # the pages are fetched first: only the sign-ins meet the lock
        holder.execute("LOCK TABLE auth_user IN ACCESS EXCLUSIVE MODE")
        waiting = "SELECT count(*) FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))"
        wait_until(
            lambda: watcher.execute(waiting, [holder.info.backend_pid]).fetchone()[0] == clients,
            timeout=HANG_LIMIT,
            what="every sign-in begun by a worker",
        )
        started = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        # Its socket closes once the server and every worker have stopped accepting: each has had the signal.
        wait_until(lambda: accept_queue(server.port) is None, timeout=HANG_LIMIT, what="the server no longer listening")
        assert results == []  # still in flight
        holder.rollback()  # the sign-ins go on
    server.process.wait(timeout=35)
    exited = time.monotonic() - started
    for thread in threads:
        thread.join(timeout=30)

    FIGURES["SIGTERM"] = f"exited {exited:.2f} s after the signal; requests in flight answered {results}"
    assert exited < 30
    assert results == [302] * clients
