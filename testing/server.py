"""Start the portal on a free port of 127.0.0.1, in processes of its own.

Used by the benchmark, the screenshot script and the load and fault tests; `manage()` prepares the
database such a server is given. It imports nothing from Django, so a script can use it before (or
without) configuring settings.
"""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def accept_queue(port: int) -> int | None:
    """Connections the kernel holds for 127.0.0.1:`port` that the server has not accepted; None: nothing listens.

    Read from Linux's /proc/net/tcp, where a listening socket's rx_queue is its accept queue.
    """
    queued = None
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        address, port_hex = fields[1].split(":")
        if fields[3] == "0A" and int(port_hex, 16) == port and address in ("0100007F", "00000000"):  # LISTEN
            queued = (queued or 0) + int(fields[4].split(":")[1], 16)
    return queued


def deployment_environment(**overrides: str) -> dict:
    """The environment for a server or a `manage.py` run of a test's own, as a deployment would set it up.

    This process's variables less the browser tests' async-safety opt-out (it must not leak into a
    deployment-like process), with DEBUG off and the loopback host allowed; then `overrides`.
    """
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update(DEBUG="false", ALLOWED_HOSTS="127.0.0.1", **overrides)
    return env


def manage(env: dict, *args: str, timeout: float = 120) -> str:
    """Run `manage.py` with `env` (the environment a PortalServer is given) and return its output; fails loudly."""
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


class PortalServer:
    """The portal on a free port; `with PortalServer(env=…) as server:` starts and stops it.

    `server`: "portal" runs `python -m ops.serve` (what `make run` starts), "gunicorn" plain
    gunicorn with sync workers (the benchmark's comparison). `options` are further flags of that
    command; `log` is an open file for the server's output (None: discarded). It counts as up
    once `ready_path` answers below 500 and every worker has started.
    """

    def __init__(
        self,
        *,
        env: dict,
        workers: int = 2,
        options=(),
        log=None,
        ready_path: str = "/accounts/login/",
        server: str = "portal",
    ):
        if server not in ("portal", "gunicorn"):
            raise ValueError(f"unknown server {server!r}")
        self.server = server
        self.env = env
        self.workers = workers
        self.options = list(options)
        self.log = log
        self.ready_path = ready_path
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def command(self) -> list[str]:
        if self.server == "gunicorn":
            return [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(self.workers),
                "--no-control-socket",
                *self.options,
            ]
        return [
            sys.executable,
            "-m",
            "ops.serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
            *self.options,
        ]

    def start(self, timeout: float = 60) -> "PortalServer":
        output = self.log if self.log is not None else subprocess.DEVNULL
        # A session of its own, so that stop() can reach every worker even if the master is gone.
        self.process = subprocess.Popen(
            self.command(),
            cwd=ROOT,
            env=self.env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the portal exited with {self.process.returncode} before it answered")
            if self._answers() and len(self.worker_pids()) >= self.workers:
                return self
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"the portal did not answer at {self.base}{self.ready_path} within {timeout:.0f} s")

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(self.base + self.ready_path, timeout=5) as response:
                return response.status < 500
        except urllib.error.HTTPError as error:
            return error.code < 500
        except OSError:
            return False

    def worker_pids(self) -> list[int]:
        if self.process is None:
            return []
        try:
            children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        except OSError:
            return []
        return [int(pid) for pid in children]

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM, as an operator's process manager sends it; SIGKILL to the whole group if it outlives `timeout`."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def __enter__(self) -> "PortalServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
