from contextlib import contextmanager
from unittest import mock

from django.db import OperationalError
from django.db.backends.utils import CursorWrapper


@contextmanager
def database_down():
    """Every query fails as on a connection PostgreSQL has closed."""

    def refuse(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    with mock.patch.object(CursorWrapper, "_execute", refuse), mock.patch.object(CursorWrapper, "_executemany", refuse):
        yield
