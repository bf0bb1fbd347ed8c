"""Values accepted once: a client assertion's `jti` is claimed here, and a second claim of it fails on every worker
and server until the first one's time is up.

The claims live where the brute-force counters live, and for the same reason: the store is shared and never
evicts (the database by default, Redis when `CACHE_URL` names it; see limits.check_redis_eviction_policy).
An expired claim may be claimed again. Unlike the counters, a claim cannot be skipped when the store is
away: `claim_once` raises Unavailable, and the caller refuses what it could not check.
"""

import hashlib
import itertools
import logging
import math

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import connections, router

from throttle import limits

logger = logging.getLogger(__name__)


class Unavailable(Exception):
    """The claim store cannot be reached now: nothing can be accepted once."""


def _key(subject: str) -> str:
    # Subjects are attacker-chosen strings: hash them into fixed-size keys.
    return hashlib.sha256(f"once\x00{subject}".encode("utf-8", "surrogatepass")).hexdigest()


def claim_once(subject: str, *, until: float) -> bool:
    """True when `subject` was not claimed (or its claim ended): it is now, until `until` (seconds since the epoch).

    False for a subject claimed before and not yet ended. Raises Unavailable when the store is away (or was a moment
    ago: the brute-force limits' pause, so that a Redis that is down costs one slow call, not one per request).
    """
    if limits.limits_off():
        raise Unavailable("the store failed a moment ago")
    store, now = _store(), limits.clock()
    try:
        return store.claim(_key(subject), until=until, now=now)
    except store.unavailable as error:
        limits.store_failed()
        logger.warning(
            "Claim store unavailable (%s): values that must be accepted once are refused", type(error).__name__
        )
        raise Unavailable(type(error).__name__) from error


class DatabaseStore:
    """Claims in throttle.ClaimedOnce: one INSERT … ON CONFLICT, which takes an ended claim over and no live one."""

    unavailable = ()  # the database being down is an outage of its own (503 from ops.outage)
    PURGE_EVERY = 16  # claims per process between two purges
    PURGE_BATCH = 256  # ended claims deleted per purge, at most
    _claims = itertools.count(1)

    def __init__(self):
        from throttle.models import ClaimedOnce

        self.model = ClaimedOnce
        self.using = router.db_for_write(ClaimedOnce)

    def _sql(self):
        connection = connections[self.using]
        qn = connection.ops.quote_name
        return connection, qn(self.model._meta.db_table), qn("key"), qn("expires_at")

    def claim(self, key: str, *, until: float, now: float) -> bool:
        connection, table, key_column, expires_at = self._sql()
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} ({key_column}, {expires_at}) VALUES (%s, %s) "
                f"ON CONFLICT ({key_column}) DO UPDATE SET {expires_at} = excluded.{expires_at} "
                f"WHERE {table}.{expires_at} <= %s RETURNING {key_column}",
                [key, until, now],
            )
            claimed = cursor.fetchone() is not None
        if next(self._claims) % self.PURGE_EVERY == 0:
            self.purge(now=now)
        return claimed

    def purge(self, *, now: float, batch: int | None = None) -> int:
        """Delete up to `batch` claims that have ended; returns how many."""
        connection, table, key_column, expires_at = self._sql()
        return limits.delete_ended(connection, table, key_column, expires_at, now=now, batch=batch or self.PURGE_BATCH)


# Atomic inside Redis. The value is the claim's end by the portal's clock, which decides; the key's Redis expiry
# only frees the memory a little after it.
_REDIS_CLAIM = """
local e = tonumber(redis.call('GET', KEYS[1]))
if e and e > tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
return 1
"""


class RedisStore:
    def __init__(self, cache: RedisCache):
        import redis

        self.cache = cache
        self.unavailable = redis.RedisError

    def claim(self, key: str, *, until: float, now: float) -> bool:
        client = self.cache._cache.get_client(write=True)
        ttl = max(1, math.ceil(until - now) + 1)
        return client.eval(_REDIS_CLAIM, 1, self.cache.make_key(f"once:{key}"), repr(now), repr(until), ttl) == 1


def _store():
    cache = caches["default"]
    return RedisStore(cache) if isinstance(cache, RedisCache) else DatabaseStore()
