import base64
import pickle

from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.db import connection


def everything_stored(*clients) -> str:
    """Every row of every table, with sessions and cache entries decoded, as one text.

    With test clients, also every cookie they hold (the browser's side: messages, session ID).
    """
    chunks = [str(client.cookies) for client in clients]
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            chunks.extend(repr(row) for row in cursor.fetchall())
    chunks.extend(repr(session.get_decoded()) for session in Session.objects.all())
    backend = settings.CACHES["default"]["BACKEND"]
    if backend.endswith("DatabaseCache"):
        table = connection.ops.quote_name(settings.CACHES["default"]["LOCATION"])
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT value FROM {table}")
            # The database cache stores pickled values in base64.
            chunks.extend(repr(pickle.loads(base64.b64decode(value))) for (value,) in cursor.fetchall())
    elif backend.endswith("LocMemCache"):
        chunks.extend(repr(pickle.loads(value)) for value in cache._cache.values())
    return "\n".join(chunks)
