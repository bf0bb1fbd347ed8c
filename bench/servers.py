"""The servers under load (the portal's own, and gunicorn sync workers for comparison), and the plain HTTP calls
the run makes to them outside the load."""

import base64
import json
import time
import urllib.error
import urllib.parse
import urllib.request

from bench.common import WORK, package_version, server_environment
from bench.databases import Database
from testing.server import PortalServer


class Server:
    """One server of the run, on the database it serves, with its output in bench/work/.

    kind "portal": `python -m ops.serve`, as `make run` starts it; "sync": plain gunicorn
    with sync workers, the comparison.
    """

    def __init__(self, args, database: Database, kind: str = "portal"):
        self.args = args
        self.database = database
        self.kind = kind
        self.log_path = WORK / f"server-{database.label}-{kind}.log"
        if kind == "sync":
            server = "gunicorn"
            options = ["--worker-class", "sync", "--backlog", "2048", "--timeout", "120", "--log-level", "warning"]
        else:
            server = "portal"
            options = ["--threads", str(args.threads), "--backlog", "2048", "--log-level", "warning"]
        self.portal = PortalServer(
            env=server_environment(database.url),
            workers=args.workers,
            options=options,
            ready_path="/bench/ping",
            server=server,
        )
        self.port = self.portal.port
        self.base = self.portal.base

    @property
    def process(self):
        return self.portal.process

    def describe(self) -> str:
        if self.kind == "sync":
            return (
                f"gunicorn {package_version('gunicorn')}, {self.args.workers} `sync` workers, one request per "
                "connection (sync workers do not keep connections alive)"
            )
        return (
            f"`python -m ops.serve`: granian {package_version('granian')} WSGI, {self.args.workers} workers per "
            f"server, {self.args.threads} threads each, HTTP/1.1 keep-alive"
        )

    def start(self) -> None:
        self.log_file = open(self.log_path, "w")  # noqa: SIM115 (open while the server runs; closed by stop())
        self.portal.log = self.log_file
        try:
            self.portal.start()
        except RuntimeError as error:
            raise SystemExit(f"{error}; see {self.log_path}")

    def worker_pids(self) -> list[int]:
        return self.portal.worker_pids()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.portal.stop()
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
        base + "/oauth/token",
        method="POST",
        body=f"grant_type=client_credentials&scope={scope}".encode(),
        headers={"Authorization": basic(*client), "Content-Type": "application/x-www-form-urlencoded"},
    )
    if status != 200:
        raise SystemExit(f"the token endpoint answered {status}: {content[:300]!r}")
    return json.loads(content)["access_token"]
