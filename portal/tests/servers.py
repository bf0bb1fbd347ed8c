"""Servers the tests start for themselves on free loopback ports, and databases of their own for them."""

import contextlib
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings

from portal.testing.server import free_port


def start_redis(*options: str) -> tuple[subprocess.Popen, str]:
    """A throwaway redis-server on a free loopback port, persisting nothing; returns (process, URL)."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("The Redis tests need redis-server (apt-get install redis-server), or TEST_REDIS_URL.")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", *options],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    import redis

    for _ in range(100):
        try:
            redis.Redis.from_url(url).ping()
            return process, url
        except redis.ConnectionError:
            time.sleep(0.05)
    process.kill()
    pytest.fail("redis-server did not start.")


@contextlib.contextmanager
def scratch_database(label: str, directory: Path) -> Iterator[str]:
    """A fresh database of the suite's engine for servers a test starts; yields its URL.

    On SQLite a file in `directory`; on PostgreSQL a database of its own next to DATABASE_URL's,
    dropped afterwards even while a server still holds connections to it.
    """
    if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
        yield f"sqlite:///{directory / f'{label}.sqlite3'}"
        return
    import psycopg

    base = urlsplit(os.environ["DATABASE_URL"])
    name = f"portal_{label}_{os.getpid()}"
    admin = urlunsplit(base._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')
    yield urlunsplit(base._replace(path=f"/{name}"))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
