import re
import threading
import time

from django.db import connection
from django.test import Client


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def form_token_of(page: str) -> str:
    return re.search(r'name="form_token" value="([^"]+)"', page).group(1)


def invitation_link_of(page: str) -> str:
    return re.search(r'data-testid="invitation-link">([^<]+)<', page).group(1)


def at_once(*requests):
    """Runs each callable in its own thread, all released together; returns their results in order."""
    barrier = threading.Barrier(len(requests))
    results = [None] * len(requests)

    def run(index, request):
        try:
            barrier.wait()
            results[index] = request()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n, request)) for n, request in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def slow_down(monkeypatch, module, name: str, *, seconds: float = 0.5) -> None:
    """`module.name` sleeps after it answers, widening the window a lock must close against a second request."""
    real = getattr(module, name)

    def slow(*args, **kwargs):
        found = real(*args, **kwargs)
        time.sleep(seconds)
        return found

    monkeypatch.setattr(module, name, slow)
