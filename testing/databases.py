"""Servers the tests start for themselves on free loopback ports, and databases of their own for them."""

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.db import connection

# The suite's in-memory SQLite database is shared-cache: a second writer fails with 'table is locked' instead of
# waiting (on a SQLite file, IMMEDIATE transactions would queue writers), so only PostgreSQL runs two requests at once.
two_writers_at_once = pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="two writers at once need PostgreSQL: the suite's in-memory SQLite database is shared-cache",
)


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
