"""Contract §8's slow-client rule, measured from outside.

Opens `trickling` connections that send a request's header lines one every `interval`
seconds and never finish, and `idle` connections that send nothing, then times ordinary
requests from another client while they hang on.
"""

import socket
import statistics
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field

from testing.server import accept_queue
from testing.waiting import wait_until


@dataclass
class SlowClientResult:
    latencies: list[float] = field(default_factory=list)  # seconds, of the ordinary requests
    failures: list[str] = field(default_factory=list)
    trickling_open: int = 0  # trickling connections still open at the end
    idle_open: int = 0

    @property
    def worst(self) -> float:
        return max(self.latencies, default=float("inf"))

    def describe(self) -> str:
        if not self.latencies:
            return f"no request answered; failures: {self.failures[:3]}"
        return (
            f"{len(self.latencies)} requests, median {statistics.median(self.latencies) * 1000:.0f} ms, "
            f"worst {self.worst * 1000:.0f} ms, {len(self.failures)} failed; "
            f"{self.trickling_open} trickling and {self.idle_open} idle connections still open"
        )


def _open(port: int) -> socket.socket | None:
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    except OSError:
        return None
    sock.setblocking(False)
    return sock


def _still_open(sock: socket.socket) -> bool:
    try:
        return sock.recv(1, socket.MSG_PEEK) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False


def measure(
    port: int,
    *,
    path: str = "/healthz",
    trickling: int = 200,
    idle: int = 200,
    interval: float = 2.0,
    seconds: float = 10.0,
    request_every: float = 0.1,
) -> SlowClientResult:
    result = SlowClientResult()
    slow = [s for s in (_open(port) for _ in range(trickling)) if s]
    quiet = [s for s in (_open(port) for _ in range(idle)) if s]
    for sock in slow:
        try:
            sock.send(f"GET {path} HTTP/1.1\r\n".encode())
        except OSError:
            pass
    stop = threading.Event()

    def trickle():
        line = 0
        while not stop.wait(interval):
            line += 1
            for sock in slow:
                try:
                    sock.send(f"X-Slow-{line}: {'a' * 20}\r\n".encode())
                except OSError:
                    pass

    trickler = threading.Thread(target=trickle, daemon=True)
    trickler.start()
    deadline = time.monotonic() + seconds
    try:
        # Timed only once the server holds every slow and idle connection, not while the kernel queues them.
        wait_until(lambda: accept_queue(port) == 0, timeout=seconds, what="every slow connection accepted")
        while time.monotonic() < deadline:
            started = time.monotonic()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=15) as response:
                    response.read()
                result.latencies.append(time.monotonic() - started)
            except (urllib.error.URLError, OSError) as error:
                result.failures.append(f"{type(error).__name__}: {error}")
            time.sleep(request_every)
    finally:
        stop.set()
        trickler.join()
        result.trickling_open = sum(_still_open(s) for s in slow)
        result.idle_open = sum(_still_open(s) for s in quiet)
        for sock in slow + quiet:
            sock.close()
    return result
