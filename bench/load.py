"""The load generators: wrk with bench/wrk.lua, or a Python fallback when wrk cannot be had."""

import http.client
import json
import multiprocessing
import os
import re
import shutil
import subprocess
import threading
import time
import urllib.parse

from bench.common import WORK, WRK_SCRIPT, log
from bench.scenarios import Scenario


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
        for step in (
            ["apt-get", "install", "-y", "-qq", "wrk"],
            ["apt-get", "update", "-qq"],
            ["apt-get", "install", "-y", "-qq", "wrk"],
        ):
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
        return f"Python fallback in bench/load.py, {self.args.connections} keep-alive connections over 2 processes"

    def run(self, scenario: Scenario, seconds: int) -> dict:
        connections = scenario.connections or self.args.connections
        # A scenario whose bodies are each used once hands this round fresh ones, never sent before.
        bodies = scenario.take_bodies(seconds) if scenario.bodies is not None else None
        if self.wrk:
            result = self._wrk(scenario, seconds, connections, bodies)
        else:
            result = python_load(scenario, seconds, connections, bodies)
        scenario.server.settle()
        return result

    def _wrk(self, scenario: Scenario, seconds: int, connections: int, bodies: list[str] | None) -> dict:
        threads = min(self.args.wrk_threads, connections)
        env = {
            **os.environ,
            "BENCH_METHOD": scenario.method,
            "BENCH_BODY": scenario.body,
            "BENCH_AUTHORIZATION": scenario.authorization,
            "BENCH_BODIES": "",
            "BENCH_WRK_THREADS": str(threads),
        }
        if bodies is not None:
            path = WORK / f"bodies-{scenario.key}.txt"
            path.write_text("\n".join(bodies) + "\n")
            env["BENCH_BODIES"] = str(path)
        command = [
            self.wrk,
            "-t",
            str(threads),
            "-c",
            str(connections),
            "-d",
            f"{seconds}s",
            "--timeout",
            "30s",
            "-s",
            str(WRK_SCRIPT),
            scenario.server.base + scenario.path,
        ]
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=seconds + 60)
        for line in done.stdout.splitlines():
            if line.startswith("BENCH_RESULT "):
                return json.loads(line.removeprefix("BENCH_RESULT "))
        raise SystemExit(f"wrk printed no result:\n{done.stdout}\n{done.stderr}")


def _python_load_worker(
    base: str, method: str, path: str, body: str, headers: dict, seconds: int, connections: int, queue, bodies=None
) -> None:
    parts = urllib.parse.urlsplit(base)
    latencies, statuses, errors = [], [], [0]
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    # Each body once, whichever connection sends it (list.pop is atomic under the GIL).
    fresh = list(reversed(bodies)) if bodies is not None else None

    def loop():
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                sent = (fresh.pop() if fresh else "exhausted") if fresh is not None else body
                conn.request(method, path, body=sent or None, headers=headers)
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


def python_load(scenario: Scenario, seconds: int, connections: int, bodies: list[str] | None = None) -> dict:
    """The fallback when wrk cannot be had: connections in two processes, each a thread."""
    headers = scenario.headers
    queue = multiprocessing.Queue()
    shares = [n for n in (connections - connections // 2, connections // 2) if n]
    processes = [
        multiprocessing.Process(
            target=_python_load_worker,
            args=(scenario.server.base, scenario.method, scenario.path, scenario.body, headers, seconds, n, queue),
            # Each process its own half of the bodies: none is sent twice.
            kwargs={"bodies": bodies[index :: len(shares)] if bodies is not None else None},
        )
        for index, n in enumerate(shares)
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
        "requests": len(statuses),
        "duration_us": seconds * 1_000_000,
        "p50_us": percentile(0.50),
        "p99_us": percentile(0.99),
        "max_us": percentile(1.0),
        "non_2xx": sum(1 for s in statuses if not 200 <= s < 300),
        "connect_errors": errors,
        "read_errors": 0,
        "write_errors": 0,
        "timeouts": 0,
    }
