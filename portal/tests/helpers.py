import itertools
import re
import threading

from django.db import connection
from django.test import Client

from testing.waiting import wait_until


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def form_token_of(page: str) -> str:
    return re.search(r'name="form_token" value="([^"]+)"', page).group(1)


def invitation_link_of(page: str) -> str:
    return re.search(r'data-testid="invitation-link">([^<]+)<', page).group(1)


def at_once(*requests, meanwhile=None):
    """Runs each callable in its own thread, all released together, and `meanwhile` in this one while they run;
    returns their results in order, or raises what one of them raised."""
    barrier = threading.Barrier(len(requests))
    results = [None] * len(requests)
    errors = []

    def run(index, request):
        try:
            barrier.wait()
            results[index] = request()
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n, request)) for n, request in enumerate(requests)]
    for thread in threads:
        thread.start()
    try:
        if meanwhile is not None:
            meanwhile()
    finally:
        for thread in threads:
            thread.join(timeout=60)
    if errors:
        raise errors[0]
    return results


class Gate:
    """Holds the first request to reach a point (inside its transaction) until a second request has met it there.

    `overlap`, run while the requests are, waits until the first is held, then until the second either waits
    for a lock the first holds (PostgreSQL's pg_blocking_pids) or reaches the same point itself (nothing
    held it back), and only then lets the first go on. Later arrivals pass straight through.
    """

    def __init__(self):
        self.inside = threading.Event()  # the first request is held at the point
        self.passed = threading.Event()  # a later one reached the point while the first was held
        self._open = threading.Event()
        self._arrivals = itertools.count()
        self._holder_pid = None
        self.met = None  # how the second request met the first: "waited for its lock" or "reached the point too"

    def arrive(self) -> None:
        if next(self._arrivals) > 0:
            self.passed.set()
            return
        if connection.vendor == "postgresql":
            self._holder_pid = connection.connection.info.backend_pid
        self.inside.set()
        assert self._open.wait(timeout=60), "the held request was never let go on"

    def overlap(self, *, timeout: float = 30) -> None:
        try:
            assert self.inside.wait(timeout=timeout), "no request reached the gate"
            self.met = wait_until(self._met, timeout=timeout, what="a second request meeting the held one")
        finally:
            self._open.set()

    def _met(self) -> str | None:
        if self.passed.is_set():
            return "reached the point too"
        if self._holder_pid is not None:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT 1 FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid)) LIMIT 1", [self._holder_pid]
                )
                if cursor.fetchone():
                    return "waited for its lock"
        return None


def hold_first_call(monkeypatch, module, name: str) -> Gate:
    """The first call of `module.name` answers, then waits at a Gate; pass `gate.overlap` to `at_once`."""
    gate = Gate()
    real = getattr(module, name)

    def held(*args, **kwargs):
        found = real(*args, **kwargs)
        gate.arrive()
        return found

    monkeypatch.setattr(module, name, held)
    return gate
