#!/usr/bin/env python3
"""`make bench`: load the token endpoint and the scoped API over 127.0.0.1 and write bench/RESULTS.md.

One run fills two fresh databases through bench/seed.py (the real services for the
organization and its applications, bulk inserts for filler rows): the main one with --tokens
stored access tokens, the comparison one with --small-tokens. Both are SQLite files in
bench/work/ by default; when DATABASE_URL names a PostgreSQL server they are databases of
their own there, created here and dropped at the end. Each gets a gunicorn server with one
worker per core, and wrk drives these scenarios in alternating rounds, so that drift of the
machine hits all of them alike:

  A    GET /bench/ping            plain DRF JSON view, no authentication, no database query
  A2   GET /bench/credentials     the very view of B, authentication and permission switched off
  B    GET /api/credentials       with a bearer token holding read:credentials
  B@1k the same against the database with --small-tokens stored tokens
  C    POST /oauth/token          client credentials grants, the project's salted SHA-256 secret
  C@1k the same against the database with --small-tokens stored tokens
  D    POST /oauth/token          the same grants, the secret hashed with Django's default PBKDF2

The /bench/ views exist only because the servers run with BENCHMARK_VIEWS=true.
"""

import argparse
import base64
import datetime as dt
import http.client
import json
import multiprocessing
import os
import platform
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / "work"
WRK_SCRIPT = ROOT / "bench" / "wrk.lua"
PYTHON = sys.executable
SCENARIOS = ["A", "A2", "B", "C", "D"]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tokens", type=int, default=100_000, help="stored access tokens in the main database")
    parser.add_argument(
        "--small-tokens", type=int, default=1_000, help="stored tokens in the comparison database for B and C (0: no comparison)"
    )
    parser.add_argument("--credentials", type=int, default=1_000, help="credentials of the benchmarked organization")
    parser.add_argument("--filler-organizations", type=int, default=20, help="other organizations, each with 5 applications and credentials")
    # Many short rounds: on a shared host throughput drifts by a third within seconds, and the
    # median of many paired ratios settles where a few long rounds do not.
    parser.add_argument("--rounds", type=int, default=40, help="alternating rounds")
    # Whole seconds: wrk takes no fractions.
    parser.add_argument("--duration", type=int, default=1, help="seconds of load per scenario and round")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of unmeasured load per scenario before the rounds (0: none)")
    parser.add_argument("--connections", type=int, default=16, help="open connections of the load generator")
    parser.add_argument("--wrk-threads", type=int, default=1)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="gunicorn workers (default: one per core)")
    # `make run` serves with sync workers; gthread measured no better on two cores (the GIL).
    parser.add_argument("--worker-class", default="sync", help="gunicorn worker class (as `make run`: sync)")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker (gthread only)")
    parser.add_argument("--keep-alive", type=int, default=5, help="gunicorn keep-alive seconds (not sync)")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS), help="comma-separated subset of A,A2,B,C,D")
    parser.add_argument(
        "--load-generator", choices=["auto", "wrk", "python"], default="auto",
        help="auto: wrk, installed with apt-get when missing, else the Python fallback",
    )
    parser.add_argument(
        "--quiet-wait", type=int, default=120,
        help="seconds in all that rounds may wait for other processes to leave the machine idle (0: never wait)",
    )
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "RESULTS.md", help="where to write the report")
    parser.add_argument("--no-results", action="store_true", help="print only; leave RESULTS.md alone")
    parser.add_argument("--keep-databases", action="store_true", help="do not drop the PostgreSQL databases at the end")
    args = parser.parse_args(argv)
    args.scenarios = [name.strip() for name in args.scenarios.split(",") if name.strip()]
    unknown = set(args.scenarios) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    if args.tokens < 1 or args.small_tokens < 0 or (args.small_tokens and args.small_tokens >= args.tokens):
        parser.error("--tokens must be positive and larger than --small-tokens")
    if args.duration < 1 or args.warmup < 0 or args.rounds < 1:
        parser.error("--duration and --rounds must be at least 1, --warmup at least 0")
    return args


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "?"


# --- Databases -----------------------------------------------------------------


class Database:
    """A fresh database for one run: a SQLite file in bench/work/, or a PostgreSQL database of its own."""

    def __init__(self, label: str, *, keep: bool):
        self.label = label
        self.keep = keep
        given = os.environ.get("DATABASE_URL", "")
        self.postgres = given.startswith(("postgres://", "postgresql://", "pgsql://"))
        if self.postgres:
            self.admin_url = given
            self.name = f"portal_bench_{os.getpid()}_{label}"
            parts = urllib.parse.urlsplit(given)
            self.url = urllib.parse.urlunsplit(parts._replace(path="/" + self.name))
        else:
            self.path = WORK / f"bench-{label}.sqlite3"
            self.url = f"sqlite:///{self.path}"
        self.token_table = "oauth2_provider_accesstoken"

    def create(self) -> None:
        if self.postgres:
            import psycopg

            with psycopg.connect(self.admin_url, autocommit=True) as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{self.name}"')
                connection.execute(f'CREATE DATABASE "{self.name}"')
        else:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)

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

    def query(self, sql: str, params=()) -> list[tuple]:
        """Housekeeping between rounds, through the database driver itself; `?` marks a parameter."""
        if self.postgres:
            import psycopg

            with psycopg.connect(self.url, autocommit=True) as connection:
                cursor = connection.execute(sql.replace("?", "%s"), params)
                return cursor.fetchall() if cursor.description else []
        connection = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            cursor = connection.execute(sql, params)
            return cursor.fetchall()
        finally:
            connection.close()

    def stored_tokens(self) -> int:
        return self.query(f"SELECT COUNT(*) FROM {self.token_table}")[0][0]

    def max_token_id(self) -> int:
        return self.query(f"SELECT COALESCE(MAX(id), 0) FROM {self.token_table}")[0][0]

    def trim_tokens(self, keep_up_to_id: int) -> None:
        """Delete the tokens a grant round issued, so every round starts from the same table size."""
        self.query(f"DELETE FROM {self.token_table} WHERE id > ?", (keep_up_to_id,))

    def describe(self) -> str:
        if self.postgres:
            return f"PostgreSQL {self.query('SHOW server_version')[0][0]} on 127.0.0.1"
        return f"SQLite {sqlite3.sqlite_version} (WAL, synchronous=NORMAL, BEGIN IMMEDIATE), files in bench/work/"

    def seed(self, args, tokens: int) -> dict:
        done = subprocess.run(
            [PYTHON, "-m", "bench.seed", "--tokens", str(tokens), "--credentials", str(args.credentials),
             "--filler-organizations", str(args.filler_organizations)],
            cwd=ROOT, env=server_environment(self.url), capture_output=True, text=True, timeout=900,
        )
        for line in done.stdout.splitlines():
            if line.startswith("BENCH_SEED "):
                seeded = json.loads(line.removeprefix("BENCH_SEED "))
                self.token_table = seeded["token_table"]
                return seeded
        raise SystemExit(f"seeding {self.label} failed:\n{done.stdout}\n{done.stderr}")


def server_environment(database_url: str) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "BENCHMARK_VIEWS": "true",
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": "WARNING",
    }


# --- Servers -------------------------------------------------------------------


class Server:
    def __init__(self, args, database: Database):
        self.args = args
        self.database = database
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = WORK / f"server-{database.label}.log"
        self.process = None

    def command(self) -> list[str]:
        gunicorn = ROOT / ".venv" / "bin" / "gunicorn"
        command = [
            str(gunicorn) if gunicorn.exists() else "gunicorn", "portal.wsgi",
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
        if self.args.worker_class == "sync":
            detail = "one request per connection (sync workers do not keep connections alive)"
        else:
            detail = f"{self.args.threads} threads each, keep-alive {self.args.keep_alive} s"
        return f"gunicorn {package_version('gunicorn')}, {self.args.workers} `{self.args.worker_class}` workers per server, {detail}"

    def start(self) -> None:
        self.log_file = open(self.log_path, "w")
        self.process = subprocess.Popen(
            self.command(), cwd=ROOT, env=server_environment(self.database.url),
            stdout=self.log_file, stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited with {self.process.returncode}; see {self.log_path}")
            try:
                status, _ = request(self.base + "/bench/ping", timeout=5)
                if status == 200 and len(self.worker_pids()) == self.args.workers:
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
        return self.log_path.read_text(errors="replace")

    def settle(self, limit: float = 60.0) -> None:
        """Wait until the requests the load generator abandoned at the end of a round are served."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            started = time.monotonic()
            try:
                request(self.base + "/bench/ping", timeout=limit)
            except OSError:
                pass
            if time.monotonic() - started < 0.05:
                return


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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


def get_token(base: str, client, scope: str) -> str:
    status, content = request(
        base + "/oauth/token", method="POST", body=f"grant_type=client_credentials&scope={scope}".encode(),
        headers={"Authorization": basic(*client), "Content-Type": "application/x-www-form-urlencoded"},
    )
    if status != 200:
        raise SystemExit(f"the token endpoint answered {status}: {content[:300]!r}")
    return json.loads(content)["access_token"]


# --- Measuring -----------------------------------------------------------------


def proc_status_kib(pid: int, key: str) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


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


def busy_seconds() -> float:
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def process_seconds(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            pass
    return total


class CpuMeter:
    """The share of the machine's CPU that processes other than the servers, wrk and this script used.

    The machine may be shared; a figure well above zero says the round's numbers were disturbed.
    """

    def __init__(self, server_pids: list[int]):
        self.server_pids = server_pids
        self.other_share = 0.0

    def _ours(self) -> float:
        import resource

        total = process_seconds(self.server_pids)
        for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
            usage = resource.getrusage(who)
            total += usage.ru_utime + usage.ru_stime
        return total

    def __enter__(self):
        self._started, self._busy, self._ours_at_start = time.monotonic(), busy_seconds(), self._ours()
        return self

    def __exit__(self, *exc):
        elapsed = time.monotonic() - self._started
        other = (busy_seconds() - self._busy) - (self._ours() - self._ours_at_start)
        self.other_share = max(other, 0.0) / (elapsed * (os.cpu_count() or 1)) if elapsed else 0.0


class QuietGate:
    """Before a round, waits (within one budget for the whole run) until other processes leave the machine idle."""

    def __init__(self, budget: float, pids, threshold: float = 0.10):
        self.remaining = budget
        self.pids = pids
        self.threshold = threshold
        self.waited = 0.0

    def wait(self, sample: float = 0.5) -> None:
        while self.remaining > 0:
            with CpuMeter(self.pids()) as meter:
                time.sleep(sample)
            if meter.other_share < self.threshold:
                return
            self.remaining -= sample
            self.waited += sample


@dataclass
class Scenario:
    key: str
    label: str
    server: Server
    path: str
    method: str = "GET"
    body: str = ""
    authorization: str = ""
    issues_tokens: bool = False
    # None: --connections. A PBKDF2 grant takes a core for a quarter of a second, so more
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
    other_cpu: float
    cpu_us: float  # worker CPU time per request

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


@dataclass
class Summary:
    scenario: Scenario
    tokens: int
    rounds: list[Round] = field(default_factory=list)

    def median(self, name: str) -> float:
        return statistics.median(getattr(r, name) for r in self.rounds)

    @property
    def rps(self) -> float:
        return self.median("rps")

    def total(self, name: str) -> int:
        return sum(getattr(r, name) for r in self.rounds)

    @property
    def rss_peak_mib(self) -> float:
        return max(r.rss_peak_mib for r in self.rounds)


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
    def __init__(self, args, wrk: str | None):
        self.args = args
        self.wrk = wrk

    def describe(self) -> str:
        if self.wrk:
            first = subprocess.run([self.wrk, "--version"], capture_output=True, text=True).stdout.split("\n")[0]
            name = re.sub(r"\s+Copyright.*", "", first).strip()
            return f"{name}, {self.args.wrk_threads} thread(s), {self.args.connections} connections"
        return f"Python fallback in bench/run.py, {self.args.connections} keep-alive connections over 2 processes"

    def run(self, scenario: Scenario, seconds: int) -> dict:
        connections = scenario.connections or self.args.connections
        if self.wrk:
            result = self._wrk(scenario, seconds, connections)
        else:
            result = python_load(scenario, seconds, connections)
        scenario.server.settle()
        return result

    def _wrk(self, scenario: Scenario, seconds: int, connections: int) -> dict:
        env = {
            **os.environ,
            "BENCH_METHOD": scenario.method,
            "BENCH_BODY": scenario.body,
            "BENCH_AUTHORIZATION": scenario.authorization,
        }
        command = [
            self.wrk, "-t", str(min(self.args.wrk_threads, connections)), "-c", str(connections), "-d", f"{seconds}s",
            "--timeout", "30s", "-s", str(WRK_SCRIPT), scenario.server.base + scenario.path,
        ]
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=seconds + 60)
        for line in done.stdout.splitlines():
            if line.startswith("BENCH_RESULT "):
                return json.loads(line.removeprefix("BENCH_RESULT "))
        raise SystemExit(f"wrk printed no result:\n{done.stdout}\n{done.stderr}")


def _python_load_worker(base: str, method: str, path: str, body: str, headers: dict, seconds: int, connections: int, queue) -> None:
    parts = urllib.parse.urlsplit(base)
    latencies, statuses, errors = [], [], [0]
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def loop():
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                conn.request(method, path, body=body or None, headers=headers)
                response = conn.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                with lock:
                    errors[0] += 1
                conn.close()
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
                continue
            with lock:
                latencies.append(time.perf_counter() - started)
                statuses.append(response.status)
            if response.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        conn.close()

    threads = [threading.Thread(target=loop) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    queue.put((latencies, statuses, errors[0]))


def python_load(scenario: Scenario, seconds: int, connections: int) -> dict:
    """The fallback when wrk cannot be had: connections in two processes, each a thread."""
    headers = {"Authorization": scenario.authorization} if scenario.authorization else {}
    if scenario.body:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    queue = multiprocessing.Queue()
    shares = [n for n in (connections - connections // 2, connections // 2) if n]
    processes = [
        multiprocessing.Process(
            target=_python_load_worker,
            args=(scenario.server.base, scenario.method, scenario.path, scenario.body, headers, seconds, n, queue),
        )
        for n in shares
    ]
    for process in processes:
        process.start()
    latencies, statuses, errors = [], [], 0
    for _ in processes:
        lat, st, err = queue.get(timeout=seconds + 120)
        latencies, statuses, errors = latencies + lat, statuses + st, errors + err
    for process in processes:
        process.join()
    latencies.sort()

    def percentile(p):
        return int(latencies[min(len(latencies) - 1, int(len(latencies) * p))] * 1e6) if latencies else 0

    return {
        "requests": len(statuses), "duration_us": seconds * 1_000_000, "p50_us": percentile(0.50),
        "p99_us": percentile(0.99), "max_us": percentile(1.0), "non_2xx": sum(1 for s in statuses if not 200 <= s < 300),
        "connect_errors": errors, "read_errors": 0, "write_errors": 0, "timeouts": 0,
    }


def preflight(scenario: Scenario) -> None:
    headers = {"Authorization": scenario.authorization} if scenario.authorization else {}
    if scenario.body:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    status, content = request(
        scenario.server.base + scenario.path, method=scenario.method,
        body=scenario.body.encode() if scenario.body else None, headers=headers,
    )
    if not 200 <= status < 300:
        raise SystemExit(f"{scenario.key}: {scenario.method} {scenario.path} answered {status}: {content[:300]!r}")


def build_scenarios(args, main: Server, small: Server | None, seeded: dict[str, dict]) -> list[Scenario]:
    grant = "grant_type=client_credentials"
    scenarios = []
    for server in [main] + ([small] if small else []):
        seed = seeded[server.database.label]
        suffix = "" if server is main else f"@{args.small_tokens // 1000}k" if args.small_tokens >= 1000 else f"@{args.small_tokens}"
        token = get_token(server.base, seed["api_client"], "read:credentials")
        if server is main:
            scenarios += [
                Scenario("A", "plain JSON view, no auth, no DB query", server, "/bench/ping"),
                Scenario("A2", "GET /api/credentials view, auth and permission off", server, "/bench/credentials"),
            ]
        scenarios += [
            Scenario("B" + suffix, "GET /api/credentials with a bearer token", server, "/api/credentials", authorization=f"Bearer {token}"),
            Scenario(
                "C" + suffix, "POST /oauth/token, salted SHA-256 secret", server, "/oauth/token", method="POST", body=grant,
                authorization=basic(*seed["grant_client"]), issues_tokens=True,
            ),
        ]
        if server is main:
            scenarios.append(
                Scenario(
                    "D", "POST /oauth/token, PBKDF2 secret (Django's default)", server, "/oauth/token", method="POST",
                    body=grant, authorization=basic(*seed["pbkdf2_client"]), issues_tokens=True, connections=args.workers,
                )
            )
    wanted = [s for s in scenarios if s.key.split("@")[0] in args.scenarios]
    # Each scenario beside its comparison twin, so that both see the same moment of the machine.
    return sorted(wanted, key=lambda s: (["A", "A2", "B", "C", "D"].index(s.key.split("@")[0]), "@" in s.key))


def run_rounds(args, load: Load, scenarios: list[Scenario], servers: list[Server]) -> tuple[dict[str, Summary], QuietGate]:
    keep = {server.database.label: server.database.max_token_id() for server in servers}
    summaries = {s.key: Summary(s, s.server.database.stored_tokens()) for s in scenarios}
    for scenario in scenarios:
        preflight(scenario)
        if args.warmup:
            load.run(scenario, args.warmup)
        if scenario.issues_tokens:
            scenario.server.database.trim_tokens(keep[scenario.server.database.label])

    def all_pids():
        return [pid for server in servers for pid in [server.process.pid, *server.worker_pids()]]

    gate = QuietGate(args.quiet_wait, all_pids)
    for number in range(1, args.rounds + 1):
        gate.wait()
        # Every other round runs backwards, so that drift within a round favours no scenario.
        for scenario in scenarios if number % 2 else scenarios[::-1]:
            pids = scenario.server.worker_pids()
            worker_seconds = process_seconds(pids)
            with RssSampler(pids) as rss, CpuMeter(all_pids()) as cpu:
                result = load.run(scenario, args.duration)
            worker_seconds = process_seconds(pids) - worker_seconds
            if scenario.issues_tokens:
                scenario.server.database.trim_tokens(keep[scenario.server.database.label])
            round_ = Round(
                requests=result["requests"],
                seconds=result["duration_us"] / 1e6,
                p50_ms=result["p50_us"] / 1000,
                p99_ms=result["p99_us"] / 1000,
                non_2xx=result["non_2xx"],
                socket_errors=result["connect_errors"] + result["read_errors"] + result["write_errors"] + result["timeouts"],
                rss_peak_mib=max(rss.peak_kib.values(), default=0) / 1024,
                other_cpu=cpu.other_share,
                cpu_us=worker_seconds * 1e6 / max(result["requests"], 1),
            )
            summaries[scenario.key].rounds.append(round_)
            log(
                f"round {number} {scenario.key:<5} {round_.rps:8.1f} req/s  p50 {round_.p50_ms:7.2f} ms  "
                f"p99 {round_.p99_ms:8.2f} ms  non-2xx {round_.non_2xx}  socket errors {round_.socket_errors}  "
                f"other CPU {round_.other_cpu:4.0%}  worker CPU {round_.cpu_us:6.0f} µs/request"
            )
    return summaries, gate


# --- Report --------------------------------------------------------------------


def machine_description() -> list[str]:
    cpu = "?"
    try:
        cpu = next(
            line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")
        )
    except (OSError, StopIteration):
        pass
    memory = "?"
    try:
        memory = f"{int(Path('/proc/meminfo').read_text().split()[1]) / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return [
        f"CPU: {cpu}, {os.cpu_count()} cores; memory {memory}",
        f"OS: {platform.system()} {platform.release()} ({platform.machine()})",
        f"Python {platform.python_version()}, Django {package_version('Django')}, DRF {package_version('djangorestframework')}, "
        f"django-oauth-toolkit {package_version('django-oauth-toolkit')}, oauthlib {package_version('oauthlib')}",
    ]


def round_ratios(summaries: dict[str, Summary], top: str, bottom: str) -> list[float]:
    if top not in summaries or bottom not in summaries:
        return []
    return [a.rps / b.rps for a, b in zip(summaries[top].rounds, summaries[bottom].rounds) if b.rps]


def ratio(summaries: dict[str, Summary], top: str, bottom: str) -> float | None:
    """The median over the rounds of the two scenarios' ratio in the same round: drift between rounds cancels."""
    ratios = round_ratios(summaries, top, bottom)
    return statistics.median(ratios) if ratios else None


def spread(summaries: dict[str, Summary], top: str, bottom: str) -> str:
    """The middle half of the per-round ratios, to show how much the machine moved under them."""
    ratios = round_ratios(summaries, top, bottom)
    if len(ratios) < 4:
        return ""
    q1, _, q3 = statistics.quantiles(ratios, n=4)
    return f"{shown(q1)}–{shown(q3)}"


def check(description: str, test):
    test.__doc__ = description
    return test


def targets(args, summaries: dict[str, Summary], context: dict) -> list[tuple]:
    def paired(label, top, bottom, test):
        return (label, ratio(summaries, top, bottom), test, spread(summaries, top, bottom))

    rows = [
        paired("B/A2: what security costs the endpoint", "B", "A2", check("≥ 0.9", lambda v: v >= 0.9)),
        paired("B/A: the endpoint against the stack's ceiling", "B", "A", None),
        paired("C/A: grants against the ceiling", "C", "A", check("≥ 0.25", lambda v: v >= 0.25)),
        paired("C/D: salted SHA-256 against PBKDF2 grants", "C", "D", check("≥ 50", lambda v: v >= 50)),
    ]
    for key in ("B", "C"):
        small = next((k for k in summaries if k.startswith(key + "@")), None)
        if small and key in summaries:
            rows.append(
                paired(
                    f"{key} at {summaries[key].tokens:,} / {key} at {summaries[small].tokens:,} stored tokens",
                    key, small, check("1 ± 0.1", lambda v: abs(v - 1) <= 0.1),
                )
            )
    failures = sum(s.total("non_2xx") + s.total("socket_errors") for s in summaries.values())
    zero = check("0", lambda v: v == 0)
    rows += [
        ("non-2xx responses and socket errors", failures, zero, ""),
        ('"database is locked" in the server logs', context["locked"], zero, ""),
        ("server errors logged (tracebacks)", context["tracebacks"], zero, ""),
    ]
    return rows


def shown(value) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:.0f}" if value >= 10 else f"{value:.2f}"


def scenario_table(summaries: dict[str, Summary]) -> list[str]:
    lines = [
        "| scenario | stored tokens | requests/s | p50 ms | p99 ms | requests | non-2xx | socket errors | peak RSS per worker | other CPU |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for key, s in summaries.items():
        lines.append(
            f"| {key}: {s.scenario.label} | {s.tokens:,} | {s.rps:,.0f} | {s.median('p50_ms'):.2f} | {s.median('p99_ms'):.2f} | "
            f"{s.total('requests'):,} | {s.total('non_2xx')} | {s.total('socket_errors')} | {s.rss_peak_mib:.0f} MiB | "
            f"{s.median('other_cpu'):.0%} |"
        )
    return lines


def report(args, summaries: dict[str, Summary], context: dict) -> str:
    lines = [
        "# Benchmark results",
        "",
        f"Written by `make bench` (`{context['command']}`) on {context['date']}, in {context['elapsed']:.0f} s.",
        "",
        "## Machine and set-up",
        "",
    ]
    for item in machine_description() + [
        f"Database: {context['database']}",
        f"Server: {context['server']}",
        f"Load generator: {context['load']}, on the same machine, over 127.0.0.1",
        f"Rounds: {args.rounds}, each running every scenario for {args.duration} s in turn (after {args.warmup} s of warm-up each); "
        f"the tokens a grant round issues are deleted after it",
        f"Stored tokens: {args.tokens:,} in the main database, {args.small_tokens:,} in the comparison one; one in five expired",
        f"Credentials: {args.credentials:,} of the benchmarked organization (page size 20), {args.credentials // 2:,} for each of "
        f"{args.filler_organizations} other organizations with 5 applications each",
    ]:
        lines.append(f"- {item}")
    lines += ["", "## Scenarios", ""] + scenario_table(summaries) + [
        "",
        "Requests/s, p50 and p99 are medians over the rounds. Other CPU is the median share of the machine that "
        "processes outside the benchmark used during a round: 0 % on a quiet machine. Each ratio below is the "
        "median over the rounds of the two scenarios' ratio within one round, so slow drift of the machine cancels.",
        "",
        "## Ratios and targets",
        "",
        "| ratio | value | middle half of the rounds | target | met |",
        "|---|---:|---:|---:|:---:|",
    ]
    for label, value, test, middle in targets(args, summaries, context):
        met = "" if test is None or value is None else ("yes" if test(value) else "**no**")
        lines.append(f"| {label} | {shown(value)} | {middle} | {test.__doc__ if test else ''} | {met} |")
    lines += ["", f"Peak resident memory per worker over the whole run (VmHWM): {context['hwm']}.", ""]
    if context.get("disturbed"):
        lines += [f"**Disturbed run:** {context['disturbed']}", ""]
    lines += [f"After the load: {context['cleartokens']}", ""]
    return "\n".join(lines)


def print_report(args, summaries: dict[str, Summary], context: dict) -> None:
    print(f"\n{'scenario':<62}{'tokens':>9}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'non-2xx':>9}{'sockerr':>9}{'RSS MiB':>9}{'other':>7}")
    for key, s in summaries.items():
        print(
            f"{key + ': ' + s.scenario.label:<62}{s.tokens:>9,}{s.rps:>9.0f}{s.median('p50_ms'):>9.2f}{s.median('p99_ms'):>9.2f}"
            f"{s.total('non_2xx'):>9}{s.total('socket_errors'):>9}{s.rss_peak_mib:>9.0f}{s.median('other_cpu'):>7.0%}"
        )
    print()
    for label, value, test, middle in targets(args, summaries, context):
        verdict = "" if test is None or value is None else ("met" if test(value) else "NOT MET")
        print(f"{label:<62}{shown(value):>10}{middle:>13}  {test.__doc__ if test else '':<8}{verdict}")
    print(f"\npeak RSS per worker (VmHWM): {context['hwm']}")
    if context.get("disturbed"):
        print(f"DISTURBED RUN: {context['disturbed']}")
    print(context["cleartokens"])


def clear_expired_tokens(database: Database) -> str:
    """Run the toolkit's cleartokens on the main database, as an operator's schedule would."""
    before = database.stored_tokens()
    started = time.monotonic()
    done = subprocess.run(
        [PYTHON, "manage.py", "cleartokens"], cwd=ROOT, env=server_environment(database.url),
        capture_output=True, text=True, timeout=600,
    )
    seconds = time.monotonic() - started
    if done.returncode:
        return f"`manage.py cleartokens` failed: {done.stderr.strip()[-300:]}"
    return f"`manage.py cleartokens` removed {before - database.stored_tokens():,} expired tokens of {before:,} in {seconds:.1f} s."


# --- Main ----------------------------------------------------------------------


def main(argv=None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    WORK.mkdir(parents=True, exist_ok=True)
    databases = [Database("main", keep=args.keep_databases)]
    if args.small_tokens and {"B", "C"} & set(args.scenarios):
        databases.append(Database("small", keep=args.keep_databases))
    servers: list[Server] = []

    def interrupted(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    try:
        seeded = {}
        for database, tokens in zip(databases, [args.tokens, args.small_tokens]):
            database.create()
            seeded[database.label] = database.seed(args, tokens)
            log(f"{database.label} database: {database.url.split('@')[-1]}, {database.stored_tokens():,} stored tokens")
        wrk = ensure_wrk(args.load_generator)
        for database in databases:
            server = Server(args, database)
            servers.append(server)
            server.start()
            log(f"{database.label} server on {server.base}: {server.describe()}")
        scenarios = build_scenarios(args, servers[0], servers[1] if len(servers) > 1 else None, seeded)
        load = Load(args, wrk)
        log(f"{args.rounds} rounds of {', '.join(s.key for s in scenarios)}, {args.duration} s each")
        summaries, gate = run_rounds(args, load, scenarios, servers)

        hwm = {pid: proc_status_kib(pid, "VmHWM") or 0 for pid in servers[0].worker_pids()}
        logs = "".join(server.log_text() for server in servers)
        for server in servers:
            server.stop()
        disturbed = [k for k, s in summaries.items() if s.median("other_cpu") > 0.10]
        context = {
            "command": " ".join(["python bench/run.py", *(argv if argv is not None else sys.argv[1:])]),
            "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "database": databases[0].describe(),
            "server": servers[0].describe(),
            "load": load.describe(),
            "locked": logs.count("database is locked"),
            "tracebacks": logs.count("Traceback"),
            "hwm": ", ".join(f"{kib / 1024:.0f} MiB" for kib in hwm.values()) or "n/a",
            "disturbed": (
                f"other processes used more than 10 % of the machine during most rounds of {', '.join(disturbed)} "
                f"(after waiting {gate.waited:.0f} s for quiet); rerun on a quiet machine before trusting the ratios."
                if disturbed else ""
            ),
            "cleartokens": clear_expired_tokens(databases[0]),
            "elapsed": time.monotonic() - started,
        }
        print_report(args, summaries, context)
        if not args.no_results:
            args.results.write_text(report(args, summaries, context))
            log(f"wrote {args.results}")
        return 0
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    finally:
        for server in servers:
            server.stop()
        for database in databases:
            database.drop()


if __name__ == "__main__":
    sys.exit(main())
