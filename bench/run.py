#!/usr/bin/env python3
"""`make bench`: load the token endpoint and the scoped API over 127.0.0.1 and write bench/RESULTS.md.

One run starts the portal under gunicorn (one worker per core) on a fresh SQLite file in
bench/work/, or on a database of its own on the PostgreSQL server that DATABASE_URL names
(created here and dropped at the end); creates an organization and its applications through
the real services, fills the database with stored tokens and credentials, then drives wrk
against these scenarios in alternating rounds, so that drift of the machine hits all alike:

  A   GET /bench/ping            plain DRF JSON view, no authentication, no database query
  A2  GET /bench/credentials     the very view of B, authentication and permission switched off
  B   GET /api/credentials       with a bearer token holding read:credentials
  C   POST /oauth/token          client credentials grants, the project's salted SHA-256 secret
  D   POST /oauth/token          the same grants, the secret hashed with Django's default PBKDF2

A first phase runs B and C with --small-tokens stored tokens; the main phase tops the table up
to --tokens and runs every scenario. The /bench/ views exist only because this script starts
the server with BENCHMARK_VIEWS=true.
"""

import argparse
import base64
import datetime as dt
import hashlib
import http.client
import json
import multiprocessing
import os
import platform
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / "work"
WRK_SCRIPT = ROOT / "bench" / "wrk.lua"
SCENARIO_ORDER = ["A", "A2", "B", "C", "D"]


def parse_args(argv=None):
    cores = os.cpu_count() or 2
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tokens", type=int, default=100_000, help="stored access tokens in the main phase")
    parser.add_argument(
        "--small-tokens", type=int, default=1_000, help="stored tokens in the comparison phase of B and C (0: skip it)"
    )
    parser.add_argument("--credentials", type=int, default=1_000, help="credentials of the benchmarked organization")
    parser.add_argument("--filler-organizations", type=int, default=20, help="other organizations, each with applications and credentials")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds per phase")
    parser.add_argument("--duration", type=float, default=6.0, help="seconds of load per scenario and round")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of unmeasured load per scenario before the rounds")
    parser.add_argument("--connections", type=int, default=16, help="open connections of the load generator")
    parser.add_argument("--wrk-threads", type=int, default=1)
    parser.add_argument("--workers", type=int, default=cores, help="gunicorn workers (default: the number of cores)")
    parser.add_argument("--worker-class", default="gthread", help="gunicorn worker class")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker (gthread)")
    parser.add_argument("--keep-alive", type=int, default=5, help="gunicorn keep-alive seconds")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    parser.add_argument("--scenarios", default=",".join(SCENARIO_ORDER), help="comma-separated subset of A,A2,B,C,D")
    parser.add_argument(
        "--load-generator", choices=["auto", "wrk", "python"], default="auto",
        help="auto: wrk, installed with apt-get when missing, else the Python fallback",
    )
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "RESULTS.md", help="where to write the report")
    parser.add_argument("--no-results", action="store_true", help="print only; leave RESULTS.md alone")
    parser.add_argument("--keep-database", action="store_true", help="do not drop the PostgreSQL database at the end")
    args = parser.parse_args(argv)
    args.scenarios = [name.strip() for name in args.scenarios.split(",") if name.strip()]
    unknown = set(args.scenarios) - set(SCENARIO_ORDER)
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    if args.tokens < 1 or args.small_tokens < 0 or args.small_tokens >= args.tokens and args.small_tokens:
        parser.error("--tokens must be positive and larger than --small-tokens")
    return args


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- Database ----------------------------------------------------------------


class Database:
    """A fresh database for one run: a SQLite file in bench/work/, or a PostgreSQL database of its own."""

    def __init__(self, keep: bool):
        self.keep = keep
        given = os.environ.get("DATABASE_URL", "")
        self.postgres = given.startswith(("postgres://", "postgresql://", "pgsql://"))
        if self.postgres:
            self.admin_url = given
            parts = urllib.parse.urlsplit(given)
            self.name = f"portal_bench_{os.getpid()}"
            self.url = urllib.parse.urlunsplit(parts._replace(path="/" + self.name))
        else:
            self.path = WORK / "bench.sqlite3"
            self.url = f"sqlite:///{self.path}"

    def create(self) -> None:
        if self.postgres:
            import psycopg

            with psycopg.connect(self.admin_url, autocommit=True) as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{self.name}"')
                connection.execute(f'CREATE DATABASE "{self.name}"')
            log(f"created PostgreSQL database {self.name}")
        else:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
            log(f"fresh SQLite database {self.path.relative_to(ROOT)}")

    def drop(self) -> None:
        if not self.postgres or self.keep:
            return
        import psycopg

        try:
            with psycopg.connect(self.admin_url, autocommit=True) as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            log(f"dropped PostgreSQL database {self.name}")
        except Exception as error:  # the run's figures matter more than the clean-up
            log(f"could not drop {self.name}: {error}")

    def describe(self) -> str:
        from django.db import connection

        if self.postgres:
            with connection.cursor() as cursor:
                cursor.execute("SHOW server_version")
                return f"PostgreSQL {cursor.fetchone()[0]} on 127.0.0.1"
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version} (WAL, synchronous=NORMAL, BEGIN IMMEDIATE), file in bench/work/"


def setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ["BENCHMARK_VIEWS"] = "true"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


# --- Data --------------------------------------------------------------------


@dataclass
class Seed:
    organization_id: int
    api_client: tuple[str, str]
    grant_client: tuple[str, str]
    pbkdf2_client: tuple[str, str]
    filler_application_ids: list[int]


VERIFIABLE_CREDENTIAL = {
    "@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"],
    "type": ["VerifiableCredential", "EmployeeCredential"],
    "issuer": "did:example:bench-issuer",
    "validFrom": "2026-01-01T00:00:00Z",
    "credentialSubject": {"id": "did:example:subject", "employeeOf": "Bench Corp", "role": "Integrations"},
}


def seed(args) -> Seed:
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command

    from applications.models import Application
    from applications.services import create_application
    from portal.services import ensure_organization

    call_command("migrate", verbosity=0, interactive=False)
    call_command("createcachetable", verbosity=0)

    organization, _ = ensure_organization(name_or_slug="Bench Corp")
    api_app, api_secret = create_application(organization=organization, name="Bench API client", scopes=["read:credentials"])
    grant_app, grant_secret = create_application(
        organization=organization, name="Bench grants", scopes=["read:credentials", "create:credentials"]
    )
    pbkdf2_app, pbkdf2_secret = create_application(
        organization=organization, name="Bench grants, PBKDF2", scopes=["read:credentials", "create:credentials"]
    )
    # The stock baseline: the same secret hashed with Django's default password hasher (PBKDF2).
    Application.objects.filter(pk=pbkdf2_app.pk).update(client_secret=make_password(pbkdf2_secret))

    filler_ids = []
    filler_organizations = []
    for n in range(args.filler_organizations):
        other, _ = ensure_organization(name_or_slug=f"Filler {n:03d}")
        filler_organizations.append(other)
        for m in range(5):
            app, _ = create_application(organization=other, name=f"Sync {m}", scopes=["read:credentials", "create:credentials"])
            filler_ids.append(app.pk)
    fill_credentials(organization, args.credentials, filler_organizations)
    log(
        f"seeded: 1 benchmarked organization with 3 applications and {args.credentials} credentials; "
        f"{args.filler_organizations} other organizations with {len(filler_ids)} applications"
    )
    return Seed(
        organization_id=organization.pk,
        api_client=(api_app.client_id, api_secret),
        grant_client=(grant_app.client_id, grant_secret),
        pbkdf2_client=(pbkdf2_app.client_id, pbkdf2_secret),
        filler_application_ids=filler_ids,
    )


def fill_credentials(organization, count: int, others) -> None:
    try:
        from api.models import Credential
    except ImportError:  # no credentials model: A2 and B are not run then
        return
    rows = [Credential(organization=organization, document=VERIFIABLE_CREDENTIAL) for _ in range(count)]
    for other in others:
        rows += [Credential(organization=other, document=VERIFIABLE_CREDENTIAL) for _ in range(count // 2)]
    Credential.objects.bulk_create(rows, batch_size=2_000)


def access_token_table() -> str:
    from oauth2_provider.models import get_access_token_model

    return get_access_token_model()._meta.db_table


def stored_tokens() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {access_token_table()}")
        return cursor.fetchone()[0]


def fill_tokens(target: int, application_ids: list[int]) -> None:
    """Bulk-insert filler tokens until the table holds `target` rows; one in five is already expired."""
    from django.db import connections
    from django.utils import timezone
    from oauth2_provider.models import get_access_token_model

    AccessToken = get_access_token_model()
    missing = target - stored_tokens()
    now = timezone.now()
    batch = []
    for n in range(max(missing, 0)):
        batch.append(
            AccessToken(
                token="",
                # Only the checksum of a token is stored (RFC 9700 token storage).
                token_checksum=hashlib.sha256(secrets.token_urlsafe(30).encode()).hexdigest(),
                application_id=application_ids[n % len(application_ids)],
                scope="read:credentials create:credentials",
                expires=now - dt.timedelta(days=1) if n % 5 == 0 else now + dt.timedelta(hours=1),
            )
        )
        if len(batch) == 10_000:
            AccessToken.objects.bulk_create(batch)
            batch = []
    if batch:
        AccessToken.objects.bulk_create(batch)
    connections.close_all()


def trim_tokens(keep_up_to_id: int) -> int:
    """Delete the tokens that grant rounds issued, so every round starts from the same table size."""
    from django.db import connection, connections

    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {access_token_table()} WHERE id > %s", [keep_up_to_id])
        deleted = cursor.rowcount
    connections.close_all()
    return deleted


def max_token_id() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {access_token_table()}")
        return cursor.fetchone()[0]


# --- Server ------------------------------------------------------------------


class Server:
    def __init__(self, args, database_url: str):
        self.args = args
        self.port = args.port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = WORK / "server.log"
        self.process = None
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "BENCHMARK_VIEWS": "true",
            "DEBUG": "false",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "LOG_LEVEL": "WARNING",
        }

    def command(self) -> list[str]:
        command = [
            str(ROOT / ".venv" / "bin" / "gunicorn") if (ROOT / ".venv" / "bin" / "gunicorn").exists() else "gunicorn",
            "portal.wsgi",
            "--bind", f"127.0.0.1:{self.port}",
            "--workers", str(self.args.workers),
            "--worker-class", self.args.worker_class,
            "--keep-alive", str(self.args.keep_alive),
            "--backlog", "2048",
            "--timeout", "120",
            "--log-level", "warning",
        ]
        if self.args.worker_class == "gthread":
            command += ["--threads", str(self.args.threads)]
        return command

    def describe(self) -> str:
        threads = f", {self.args.threads} threads each" if self.args.worker_class == "gthread" else ""
        return f"gunicorn {gunicorn_version()}, {self.args.workers} `{self.args.worker_class}` workers{threads}, keep-alive {self.args.keep_alive} s"

    def start(self) -> None:
        self.log_file = open(self.log_path, "w")
        self.process = subprocess.Popen(
            self.command(), cwd=ROOT, env=self.env, stdout=self.log_file, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited with {self.process.returncode}; see {self.log_path}")
            try:
                status, _ = request(self.base + "/bench/ping")
                if status == 200 and len(self.worker_pids()) == self.args.workers:
                    log(f"server up on {self.base}: {self.describe()}")
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise SystemExit(f"the server did not answer within 60 s; see {self.log_path}")

    def worker_pids(self) -> list[int]:
        try:
            children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        except OSError:
            return []
        return [int(pid) for pid in children]

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self.log_file.close()

    def log_text(self) -> str:
        self.log_file.flush()
        return self.log_path.read_text(errors="replace")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def gunicorn_version() -> str:
    try:
        from importlib.metadata import version

        return version("gunicorn")
    except Exception:
        return "?"


def request(url: str, *, method="GET", body: bytes | None = None, headers=None, timeout=30) -> tuple[int, bytes]:
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def basic(client_id: str, secret: str) -> str:
    quote = urllib.parse.quote_plus
    return "Basic " + base64.b64encode(f"{quote(client_id)}:{quote(secret)}".encode()).decode()


# --- Memory ------------------------------------------------------------------


class RssSampler:
    """Samples each worker's resident set size from /proc while a round runs."""

    def __init__(self, pids: list[int], interval: float = 0.2):
        self.pids = pids
        self.interval = interval
        self.peak_kib: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self._sample()

    def _sample(self) -> None:
        for pid in self.pids:
            kib = proc_status_kib(pid, "VmRSS")
            if kib is not None:
                self.peak_kib[pid] = max(self.peak_kib.get(pid, 0), kib)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()


class CpuMeter:
    """Share of the machine's CPU that processes other than the server, wrk and this script used in a round.

    The machine may be shared; a figure well above zero says the round's numbers were disturbed.
    """

    def __init__(self, server_pids: list[int]):
        self.server_pids = server_pids
        self.other_share = 0.0

    @staticmethod
    def _busy_seconds() -> float:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
        return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")

    def _ours_seconds(self) -> float:
        import resource

        total = 0.0
        for pid in self.server_pids:
            try:
                stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")
            except (OSError, IndexError, ValueError):
                pass
        for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
            usage = resource.getrusage(who)
            total += usage.ru_utime + usage.ru_stime
        return total

    def __enter__(self):
        self._started = time.monotonic()
        self._busy = self._busy_seconds()
        self._ours = self._ours_seconds()
        return self

    def __exit__(self, *exc):
        elapsed = time.monotonic() - self._started
        other = (self._busy_seconds() - self._busy) - (self._ours_seconds() - self._ours)
        self.other_share = max(other, 0.0) / (elapsed * (os.cpu_count() or 1)) if elapsed else 0.0


def proc_status_kib(pid: int, key: str) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


# --- Load --------------------------------------------------------------------


@dataclass
class Scenario:
    key: str
    label: str
    path: str
    method: str = "GET"
    body: str = ""
    authorization: str = ""
    issues_tokens: bool = False
    # None: --connections. PBKDF2 grants take a core for a third of a second each, so more
    # connections than workers only queue requests that outlive the round.
    connections: int | None = None


@dataclass
class Round:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: int
    rss_peak_mib: float
    tokens_stored: int
    other_cpu: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


@dataclass
class Summary:
    scenario: Scenario
    rounds: list[Round] = field(default_factory=list)

    @property
    def rps(self) -> float:
        return statistics.median(r.rps for r in self.rounds)

    @property
    def p50_ms(self) -> float:
        return statistics.median(r.p50_ms for r in self.rounds)

    @property
    def p99_ms(self) -> float:
        return statistics.median(r.p99_ms for r in self.rounds)

    @property
    def non_2xx(self) -> int:
        return sum(r.non_2xx for r in self.rounds)

    @property
    def socket_errors(self) -> int:
        return sum(r.socket_errors for r in self.rounds)

    @property
    def requests(self) -> int:
        return sum(r.requests for r in self.rounds)

    @property
    def rss_peak_mib(self) -> float:
        return max(r.rss_peak_mib for r in self.rounds)

    @property
    def other_cpu(self) -> float:
        return statistics.median(r.other_cpu for r in self.rounds)


def ensure_wrk(choice: str) -> str | None:
    """The path of wrk, installed from Debian when missing; None means the Python fallback."""
    if choice == "python":
        return None
    found = shutil.which("wrk")
    if found:
        return found
    if shutil.which("apt-get") and os.geteuid() == 0:
        log("wrk is missing: installing Debian's package")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for step in (["apt-get", "install", "-y", "-qq", "wrk"], ["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "wrk"]):
            subprocess.run(step, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300)
            found = shutil.which("wrk")
            if found:
                return found
    if choice == "wrk":
        raise SystemExit("wrk is not installed and could not be installed (apt-get install wrk)")
    log("wrk is not available: falling back to the Python load generator (its own CPU use lowers every figure)")
    return None


class Load:
    def __init__(self, args, server: Server, wrk: str | None):
        self.args = args
        self.server = server
        self.wrk = wrk

    def describe(self) -> str:
        if self.wrk:
            version = subprocess.run([self.wrk, "--version"], capture_output=True, text=True).stdout.split("\n")[0]
            version = re.sub(r"\s+Copyright.*", "", version).strip()
            return f"{version}, {self.args.wrk_threads} thread(s), {self.args.connections} connections"
        return f"Python fallback (bench/run.py), {self.args.connections} keep-alive connections in 2 processes"

    def run(self, scenario: Scenario, seconds: float) -> dict:
        connections = scenario.connections or self.args.connections
        if self.wrk:
            result = self._wrk(scenario, seconds, connections)
        else:
            result = python_load(self.server.base, scenario, seconds, connections)
        self.settle()
        return result

    def settle(self, limit: float = 60.0) -> None:
        """Wait until requests the load generator abandoned at the end of a round are served."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            started = time.monotonic()
            try:
                request(self.server.base + "/bench/ping", timeout=limit)
            except OSError:
                pass
            if time.monotonic() - started < 0.05:
                return

    def _wrk(self, scenario: Scenario, seconds: float, connections: int) -> dict:
        env = {
            **os.environ,
            "BENCH_METHOD": scenario.method,
            "BENCH_BODY": scenario.body,
            "BENCH_AUTHORIZATION": scenario.authorization,
        }
        command = [
            self.wrk, "-t", str(min(self.args.wrk_threads, connections)), "-c", str(connections), "-d", f"{seconds:g}s",
            "--timeout", "30s", "-s", str(WRK_SCRIPT), self.server.base + scenario.path,
        ]
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=seconds + 60)
        for line in done.stdout.splitlines():
            if line.startswith("BENCH_RESULT "):
                return json.loads(line.removeprefix("BENCH_RESULT "))
        raise SystemExit(f"wrk printed no result:\n{done.stdout}\n{done.stderr}")


def _python_load_worker(base: str, scenario: Scenario, seconds: float, connections: int, queue) -> None:
    parts = urllib.parse.urlsplit(base)
    latencies, statuses, errors = [], [], [0]
    headers = {"Authorization": scenario.authorization} if scenario.authorization else {}
    if scenario.body:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    deadline = time.monotonic() + seconds
    lock = threading.Lock()

    def loop():
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        while time.monotonic() < deadline:
            start = time.perf_counter()
            try:
                conn.request(scenario.method, scenario.path, body=scenario.body or None, headers=headers)
                response = conn.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                with lock:
                    errors[0] += 1
                conn.close()
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
                continue
            with lock:
                latencies.append(time.perf_counter() - start)
                statuses.append(response.status)
        conn.close()

    threads = [threading.Thread(target=loop) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    queue.put((latencies, statuses, errors[0]))


def python_load(base: str, scenario: Scenario, seconds: float, connections: int) -> dict:
    """The fallback when wrk cannot be had: keep-alive connections spread over two processes."""
    queue = multiprocessing.Queue()
    share = [connections // 2 + connections % 2, connections // 2]
    processes = [
        multiprocessing.Process(target=_python_load_worker, args=(base, scenario, seconds, n, queue)) for n in share if n
    ]
    for process in processes:
        process.start()
    latencies, statuses, errors = [], [], 0
    for _ in processes:
        lat, st, err = queue.get(timeout=seconds + 120)
        latencies += lat
        statuses += st
        errors += err
    for process in processes:
        process.join()
    latencies.sort()

    def pct(p):
        return int(latencies[min(len(latencies) - 1, int(len(latencies) * p))] * 1e6) if latencies else 0

    return {
        "requests": len(statuses), "duration_us": int(seconds * 1e6), "p50_us": pct(0.50), "p99_us": pct(0.99),
        "max_us": pct(1.0), "non_2xx": sum(1 for s in statuses if not 200 <= s < 300), "connect_errors": errors,
        "read_errors": 0, "write_errors": 0, "timeouts": 0,
    }


# --- Phases ------------------------------------------------------------------


def get_token(base: str, client: tuple[str, str], scope: str = "") -> str:
    body = "grant_type=client_credentials" + (f"&scope={urllib.parse.quote(scope)}" if scope else "")
    status, content = request(
        base + "/oauth/token", method="POST", body=body.encode(),
        headers={"Authorization": basic(*client), "Content-Type": "application/x-www-form-urlencoded"},
    )
    if status != 200:
        raise SystemExit(f"the token endpoint answered {status}: {content[:300]!r}")
    return json.loads(content)["access_token"]


def scenarios_for(args, seed: Seed, token: str) -> dict[str, Scenario]:
    grant_body = "grant_type=client_credentials"
    all_ = {
        "A": Scenario("A", "plain JSON view, no auth, no DB query", "/bench/ping"),
        "A2": Scenario("A2", "GET /api/credentials view, auth and permission off", "/bench/credentials"),
        "B": Scenario("B", "GET /api/credentials with a bearer token", "/api/credentials", authorization=f"Bearer {token}"),
        "C": Scenario(
            "C", "POST /oauth/token, salted SHA-256 secret", "/oauth/token", method="POST", body=grant_body,
            authorization=basic(*seed.grant_client), issues_tokens=True,
        ),
        "D": Scenario(
            "D", "POST /oauth/token, PBKDF2 secret (Django default)", "/oauth/token", method="POST", body=grant_body,
            authorization=basic(*seed.pbkdf2_client), issues_tokens=True, connections=args.workers,
        ),
    }
    return {key: all_[key] for key in SCENARIO_ORDER if key in args.scenarios}


def preflight(base: str, scenario: Scenario) -> None:
    headers = {"Authorization": scenario.authorization} if scenario.authorization else {}
    if scenario.body:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    status, content = request(
        base + scenario.path, method=scenario.method, body=scenario.body.encode() if scenario.body else None, headers=headers
    )
    if not 200 <= status < 300:
        raise SystemExit(f"{scenario.key} {scenario.method} {scenario.path} answered {status}: {content[:300]!r}")


def run_phase(name, args, load: Load, server: Server, scenarios: list[Scenario], keep_up_to_id: int) -> dict[str, Summary]:
    summaries = {s.key: Summary(s) for s in scenarios}
    tokens = stored_tokens()
    log(f"phase {name}: {tokens:,} stored tokens; {args.rounds} rounds of {', '.join(s.key for s in scenarios)}")
    for scenario in scenarios:
        preflight(server.base, scenario)
        if args.warmup > 0:
            load.run(scenario, args.warmup)
        if scenario.issues_tokens:
            trim_tokens(keep_up_to_id)
    for number in range(1, args.rounds + 1):
        for scenario in scenarios:
            tokens = stored_tokens() if scenario.key in ("B", "C") else 0
            from django.db import connections

            connections.close_all()
            pids = server.worker_pids()
            with RssSampler(pids) as sampler, CpuMeter([server.process.pid, *pids]) as cpu:
                result = load.run(scenario, args.duration)
            if scenario.issues_tokens:
                trim_tokens(keep_up_to_id)
            round_ = Round(
                requests=result["requests"],
                seconds=result["duration_us"] / 1e6,
                p50_ms=result["p50_us"] / 1000,
                p99_ms=result["p99_us"] / 1000,
                non_2xx=result["non_2xx"],
                socket_errors=result["connect_errors"] + result["read_errors"] + result["write_errors"] + result["timeouts"],
                rss_peak_mib=max(sampler.peak_kib.values(), default=0) / 1024,
                tokens_stored=tokens,
                other_cpu=cpu.other_share,
            )
            summaries[scenario.key].rounds.append(round_)
            log(
                f"  round {number} {scenario.key:<2} {round_.rps:8.1f} req/s  p50 {round_.p50_ms:7.2f} ms  "
                f"p99 {round_.p99_ms:8.2f} ms  non-2xx {round_.non_2xx}  socket errors {round_.socket_errors}  "
                f"other CPU {round_.other_cpu:4.0%}"
            )
    return summaries


# --- Report ------------------------------------------------------------------


def machine_description() -> list[str]:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "?"
    try:
        kib = int(Path("/proc/meminfo").read_text().split("\n")[0].split()[1])
        memory = f"{kib / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    from importlib.metadata import version

    def v(name):
        try:
            return version(name)
        except Exception:
            return "?"

    return [
        f"CPU: {cpu}, {os.cpu_count()} cores; memory {memory}",
        f"OS: {platform.system()} {platform.release()} ({platform.machine()})",
        f"Python {platform.python_version()}, Django {v('Django')}, DRF {v('djangorestframework')}, "
        f"django-oauth-toolkit {v('django-oauth-toolkit')}, oauthlib {v('oauthlib')}",
    ]


def ratio(summaries, top: str, bottom: str) -> float | None:
    if top in summaries and bottom in summaries and summaries[bottom].rps:
        return summaries[top].rps / summaries[bottom].rps
    return None


def report(args, main: dict[str, Summary], small: dict[str, Summary], context: dict) -> str:
    lines = []
    lines.append(f"# Benchmark results\n")
    lines.append(f"Written by `make bench` (`{context['command']}`) on {context['date']}, in {context['elapsed']:.0f} s.\n")
    lines.append("## Machine and set-up\n")
    for item in machine_description() + [
        f"Database: {context['database']}",
        f"Server: {context['server']}",
        f"Load generator: {context['load']} on the same machine, over 127.0.0.1",
        f"Rounds: {args.rounds} alternating rounds of {args.duration:g} s per scenario and phase (after {args.warmup:g} s of warm-up each)",
        f"Stored tokens: {args.tokens:,} in the main phase (one in five expired), {args.small_tokens:,} in the comparison phase; "
        f"the tokens a grant round issues are deleted after it",
        f"Credentials: {args.credentials:,} for the benchmarked organization, {args.credentials // 2:,} for each of "
        f"{args.filler_organizations} other organizations; page size 20",
    ]:
        lines.append(f"- {item}")
    lines.append("")
    lines.append(f"## Main phase: {args.tokens:,} stored tokens\n")
    lines += table(main)
    if small:
        lines.append(f"## Comparison phase: {args.small_tokens:,} stored tokens\n")
        lines += table(small)
    lines.append("## Ratios and targets\n")
    lines.append("| ratio | value | target | met |")
    lines.append("|---|---:|---:|:---:|")
    for label, value, target in targets(args, main, small, context):
        shown = "n/a" if value is None else f"{value:.2f}"
        met = "" if target is None or value is None else ("yes" if target(value) else "**no**")
        lines.append(f"| {label} | {shown} | {target.__doc__ if target else ''} | {met} |")
    lines.append("")
    lines.append(f"Peak resident memory per worker over the whole run (VmHWM): {context['hwm']}.\n")
    if context.get("cleartokens"):
        lines.append(f"After the load: {context['cleartokens']}\n")
    return "\n".join(lines)


def table(summaries: dict[str, Summary]) -> list[str]:
    lines = [
        "| scenario | requests/s (median) | p50 ms | p99 ms | requests | non-2xx | socket errors | peak RSS per worker | other CPU |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for key, s in summaries.items():
        lines.append(
            f"| {key}: {s.scenario.label} | {s.rps:,.0f} | {s.p50_ms:.2f} | {s.p99_ms:.2f} | {s.requests:,} | "
            f"{s.non_2xx} | {s.socket_errors} | {s.rss_peak_mib:.0f} MiB | {s.other_cpu:.0%} |"
        )
    return lines + [
        "",
        "Latencies are medians over the rounds; other CPU is the median share of the machine that processes "
        "outside the benchmark used during a round (0 % on a quiet machine).",
        "",
    ]


def at_least(limit):
    def check(value):
        return value >= limit

    check.__doc__ = f"≥ {limit:g}"
    return check


def within(fraction):
    def check(value):
        return abs(value - 1) <= fraction

    check.__doc__ = f"1 ± {fraction:g}"
    return check


def equals_zero():
    def check(value):
        return value == 0

    check.__doc__ = "0"
    return check


def targets(args, main, small, context):
    rows = [
        ("B/A2 (what security costs the endpoint)", ratio(main, "B", "A2"), at_least(0.9)),
        ("B/A (the endpoint against the stack's ceiling)", ratio(main, "B", "A"), None),
        ("C/A (grants against the ceiling)", ratio(main, "C", "A"), at_least(0.25)),
        ("C/D (salted SHA-256 against PBKDF2 grants)", ratio(main, "C", "D"), at_least(50)),
    ]
    for key in ("B", "C"):
        if key in main and key in small:
            rows.append(
                (f"{key} at {args.tokens:,} / {key} at {args.small_tokens:,} stored tokens", main[key].rps / small[key].rps, within(0.1))
            )
    everything = list(main.values()) + list(small.values())
    rows.append(("non-2xx responses and socket errors, all phases", float(sum(s.non_2xx + s.socket_errors for s in everything)), equals_zero()))
    rows.append(('"database is locked" in the server log', float(context["locked"]), equals_zero()))
    rows.append(("server errors logged (tracebacks)", float(context["tracebacks"]), equals_zero()))
    return rows


def print_summary(title: str, summaries: dict[str, Summary]) -> None:
    print(f"\n{title}")
    print(f"{'scenario':<58}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'non-2xx':>9}{'sock err':>9}{'RSS MiB':>9}{'other':>7}")
    for key, s in summaries.items():
        print(
            f"{key + ': ' + s.scenario.label:<58}{s.rps:>9.0f}{s.p50_ms:>9.2f}{s.p99_ms:>9.2f}"
            f"{s.non_2xx:>9}{s.socket_errors:>9}{s.rss_peak_mib:>9.0f}{s.other_cpu:>7.0%}"
        )


def clear_expired_tokens() -> str:
    """Run the toolkit's cleartokens on the bench database, as an operator's schedule would."""
    from django.core.management import call_command

    before = stored_tokens()
    started = time.monotonic()
    call_command("cleartokens", verbosity=0)
    seconds = time.monotonic() - started
    after = stored_tokens()
    return f"`manage.py cleartokens` removed {before - after:,} expired tokens of {before:,} in {seconds:.1f} s."


# --- Main --------------------------------------------------------------------


def main(argv=None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    WORK.mkdir(parents=True, exist_ok=True)
    database = Database(keep=args.keep_database)
    database.create()
    server = None

    def interrupted(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    try:
        setup_django(database.url)
        data = seed(args)
        have_credentials = has_credentials_api()
        if not have_credentials:
            args.scenarios = [key for key in args.scenarios if key not in ("A2", "B")]
            log("no /api/credentials in this tree: A2 and B are skipped")
        wrk = ensure_wrk(args.load_generator)
        server = Server(args, database.url)
        from django.db import connections

        connections.close_all()
        server.start()
        load = Load(args, server, wrk)
        token = get_token(server.base, data.api_client, "read:credentials")
        scenarios = scenarios_for(args, data, token)
        keep_up_to_id = max_token_id()

        small: dict[str, Summary] = {}
        comparison = [scenarios[key] for key in ("B", "C") if key in scenarios]
        if args.small_tokens and comparison:
            fill_tokens(args.small_tokens, data.filler_application_ids)
            keep_up_to_id = max_token_id()
            small = run_phase(f"{args.small_tokens:,} tokens", args, load, server, comparison, keep_up_to_id)
        log(f"filling the token table up to {args.tokens:,} rows")
        fill_tokens(args.tokens, data.filler_application_ids)
        keep_up_to_id = max_token_id()
        main_phase = run_phase(f"{args.tokens:,} tokens", args, load, server, list(scenarios.values()), keep_up_to_id)

        hwm = {pid: proc_status_kib(pid, "VmHWM") or 0 for pid in server.worker_pids()}
        server_log = server.log_text()
        context = {
            "command": "python bench/run.py " + " ".join(argv if argv is not None else sys.argv[1:]),
            "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "database": database.describe(),
            "server": server.describe(),
            "load": load.describe(),
            "locked": server_log.count("database is locked"),
            "tracebacks": server_log.count("Traceback"),
            "hwm": ", ".join(f"{kib / 1024:.0f} MiB" for kib in hwm.values()) or "n/a",
        }
        server.stop()
        context["cleartokens"] = clear_expired_tokens()
        context["elapsed"] = time.monotonic() - started

        print_summary(f"{args.small_tokens:,} stored tokens", small) if small else None
        print_summary(f"{args.tokens:,} stored tokens", main_phase)
        print()
        for label, value, target in targets(args, main_phase, small, context):
            shown = "n/a" if value is None else f"{value:.2f}"
            verdict = "" if target is None or value is None else ("met" if target(value) else "NOT MET")
            print(f"{label:<62}{shown:>10}  {target.__doc__ if target else '':<8}{verdict}")
        print(f"\npeak RSS per worker (VmHWM): {context['hwm']}")
        print(context["cleartokens"])
        if not args.no_results:
            args.results.write_text(report(args, main_phase, small, context))
            log(f"wrote {args.results.relative_to(ROOT) if args.results.is_relative_to(ROOT) else args.results}")
        return 0
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    finally:
        if server is not None:
            server.stop()
        try:
            from django.db import connections

            connections.close_all()
        except Exception:
            pass
        database.drop()


def has_credentials_api() -> bool:
    from django.urls import NoReverseMatch, reverse

    try:
        reverse("bench:credentials")
        reverse("api:credentials")
    except NoReverseMatch:
        return False
    return True


if __name__ == "__main__":
    sys.exit(main())
