"""Brute-force limits that hold across every worker and server, and that no flood can erase.

Each limit counts the failures of one subject (an address, a client ID from an
address…) in a window that starts with its first failure and ends `window`
seconds later; the end is fixed then and never moved. A subject that holds
`count` failures is refused until its window ends.

Two ways in, one shape out:
- `attempt` (people's passwords: sign-in, the password page, invitation links)
  takes its place in the counters *before* the password is checked (an atomic
  increment) and gives it back when it succeeds, so parallel attempts can never
  get more than `count` guesses through: the one that would be `count + 1` is
  refused before anything is checked.
- `check` (machines' 256-bit secrets: the token endpoints) only reads the
  counters first and counts a failure after it, so a success costs one read
  instead of two writes (see `Check`).
Either's `failed()` counts the failure and answers a `Failure`.

The counters live in a table of our own (one upsert per attempt, on SQLite and
PostgreSQL alike), or in Redis when `CACHE_URL` names Redis (one Lua script per
attempt). Either way nothing culls them before their window ends: the database
never evicts, and the portal refuses to start on a Redis that could
(`check_redis_eviction_policy`).
"""

import hashlib
import itertools
import logging
import math
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, connections, router
from django.dispatch import Signal

logger = logging.getLogger(__name__)

# Sent each time the counter store fails and the limits are skipped for a moment (the metrics count it).
store_unavailable = Signal()


def clock() -> float:
    """Seconds since the epoch; the one clock of every window (tests move it by hand)."""
    return time.time()


@dataclass(frozen=True)
class Limit:
    name: str
    setting: str  # names a (count, window seconds) pair in settings.FAILURE_LIMITS

    @property
    def count(self) -> int:
        return settings.FAILURE_LIMITS[self.setting][0]

    @property
    def window(self) -> int:
        return settings.FAILURE_LIMITS[self.setting][1]

    def key(self, subject: str) -> str:
        # Subjects are attacker-chosen strings: hash them into fixed-size keys.
        return hashlib.sha256(f"{self.name}\x00{subject}".encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class Failure:
    """What counting one failure found: the limits it has just filled, and the seconds to wait when it went past
    one (failures sent in parallel), else 0."""

    reached: list[Limit] = field(default_factory=list)
    wait: int = 0


@dataclass
class Attempt:
    """One attempt's places in its counters; `wait` > 0 when it was refused before any check."""

    store: object = None
    places: list[tuple[Limit, str, int]] = field(default_factory=list)  # (limit, key, this attempt's number)
    wait: int = 0

    def failed(self) -> Failure:
        """Keep the places as counted failures. Never past a limit: the place was taken before the check."""
        reached = [limit for limit, _, number in self.places if number == limit.count]
        self.places = []
        return Failure(reached)

    def succeeded(self) -> None:
        """Give the places back: only failures count."""
        if self.places:
            places, self.places = self.places, []
            try:
                self.store.release([key for _, key, _ in places])
            except DatabaseError as error:
                # The database went away after the place was taken: it stays taken until its window ends.
                logger.warning("Brute-force counters unavailable, a place was not given back: %s", type(error).__name__)


class _Pause:
    """After the store failed, leave it alone for a moment in this process: one slow attempt, not one per request."""

    seconds = 2.0

    def __init__(self):
        self.until = 0.0

    def active(self) -> bool:
        return time.monotonic() < self.until

    def start(self) -> None:
        self.until = time.monotonic() + self.seconds


_pause = _Pause()


def store_failed() -> None:
    """The shared store failed: this process leaves it alone for a moment, and the metrics are told."""
    _pause.start()
    store_unavailable.send(sender=None)


def _skip_for_a_moment(error: Exception, what: str = "this attempt was not checked") -> None:
    # Contract: with Redis down (or full, refusing writes) tokens are still issued; the limits are skipped, loudly.
    store_failed()
    logger.warning(
        "Brute-force counters unavailable (%s): %s, and the brute-force limits are OFF in this process for %.0f s",
        type(error).__name__,
        what,
        _pause.seconds,
    )


def limits_off() -> bool:
    """Whether this process skips the limits now: a counter call of its own failed within the last seconds."""
    return _pause.active()


def probe_store() -> None:
    """Raises as a counter write would now: Redis full at maxmemory, or a read-only replica, still answers reads."""
    _store().probe()


def _keys(checks: list[tuple[Limit, str]]) -> dict[str, Limit]:
    return {limit.key(subject): limit for limit, subject in checks}


def attempt(checks: list[tuple[Limit, str]]) -> Attempt:
    """Take this attempt's place under every (limit, subject); refused (wait > 0) when one is full."""
    if _pause.active():
        return Attempt()
    store, now, keys = _store(), clock(), _keys(checks)
    try:
        counters = store.reserve({key: now + limit.window for key, limit in keys.items()}, now=now)
    except store.unavailable as error:
        _skip_for_a_moment(error)
        return Attempt()
    full = [(limit, counters[key]) for key, limit in keys.items() if counters[key][0] > limit.count]
    if full:
        # Refused before anything is checked, so nothing was tried: give every place back.
        store.release(list(keys))
        wait = max(math.ceil(expires_at - now) for _, (_, expires_at) in full)
        return Attempt(wait=max(wait, 1))
    return Attempt(store=store, places=[(limit, key, counters[key][0]) for key, limit in keys.items()])


@dataclass
class Check:
    """A look at the counters before a machine client's secret is checked; failures are counted after.

    The token endpoints take no place up front: a success then costs one read instead of two
    writes. Parallel failures still end at exactly the limit, since each failure learns its own
    number from the atomic increment and past the limit is answered as a lockout. Their secrets
    were checked meanwhile, which a 256-bit random secret makes worthless to an attacker; sign-in,
    where people choose passwords, keeps `attempt`.
    """

    store: object = None
    keys: dict = field(default_factory=dict)  # key -> limit
    now: float = 0.0
    wait: int = 0

    def failed(self) -> Failure:
        """Count the failure, learning its number from the atomic increment."""
        if self.store is None:
            return Failure()
        try:
            counters = self.store.reserve(
                {key: self.now + limit.window for key, limit in self.keys.items()}, now=self.now
            )
        except self.store.unavailable as error:
            _skip_for_a_moment(error, "a failed authentication was not counted")
            return Failure()
        reached = [limit for key, limit in self.keys.items() if counters[key][0] == limit.count]
        over = [counters[key][1] for key, limit in self.keys.items() if counters[key][0] > limit.count]
        return Failure(reached, max([math.ceil(end - self.now) for end in over], default=0))


def check(checks: list[tuple[Limit, str]]) -> Check:
    """Whether any (limit, subject) is locked out now (wait > 0), read without writing."""
    if _pause.active():
        return Check()
    store, now, keys = _store(), clock(), _keys(checks)
    try:
        counters = store.peek(list(keys), now=now)
    except store.unavailable as error:
        _skip_for_a_moment(error)
        return Check()
    full = [end for key, (failures, end) in counters.items() if failures >= keys[key].count]
    wait = max([math.ceil(end - now) for end in full], default=0)
    return Check(store=store, keys=keys, now=now, wait=max(wait, 1) if full else 0)


# --- Stores --------------------------------------------------------------------


class _Unavailable(Exception):
    pass


class DatabaseStore:
    """Counters in portal.FailureCounter, incremented by one INSERT … ON CONFLICT DO UPDATE … RETURNING.

    Raw SQL because the ORM cannot express an upsert that increments and returns the
    new value; the statement is atomic on SQLite (3.35+) and PostgreSQL alike.
    """

    unavailable = _Unavailable  # the database being down is an outage of its own, never skipped
    PURGE_EVERY = 16  # attempts per process between two purges
    PURGE_BATCH = 256  # expired rows deleted per purge, at most: O(1) per attempt, more than attempts create
    _attempts = itertools.count(1)

    def __init__(self):
        from throttle.models import FailureCounter

        self.model = FailureCounter
        self.using = router.db_for_write(FailureCounter)

    def _sql(self):
        connection = connections[self.using]
        qn = connection.ops.quote_name
        return connection, qn(self.model._meta.db_table), qn("key"), qn("failures"), qn("expires_at")

    def peek(self, keys: list[str], *, now: float) -> dict[str, tuple[int, float]]:
        """(failures, window end) of the keys whose window is open."""
        connection, table, key, failures, expires_at = self._sql()
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {key}, {failures}, {expires_at} FROM {table} "
                f"WHERE {expires_at} > %s AND {key} IN ({', '.join(['%s'] * len(keys))})",
                [now, *keys],
            )
            return {row[0]: (row[1], row[2]) for row in cursor.fetchall()}

    def reserve(self, starts: dict[str, float], *, now: float) -> dict[str, tuple[int, float]]:
        connection, table, key, failures, expires_at = self._sql()
        items = sorted(starts.items())  # one lock order for every statement: no deadlock between two
        rows = ", ".join(["(%s, 1, %s)"] * len(items))
        # A window restarts when it has ended, or when it holds nothing (only successes passed through).
        restart = f"{table}.{expires_at} <= %s OR {table}.{failures} <= 0"
        sql = (
            f"INSERT INTO {table} ({key}, {failures}, {expires_at}) VALUES {rows} "
            f"ON CONFLICT ({key}) DO UPDATE SET "
            f"{failures} = CASE WHEN {restart} THEN 1 ELSE {table}.{failures} + 1 END, "
            f"{expires_at} = CASE WHEN {restart} THEN excluded.{expires_at} ELSE {table}.{expires_at} END "
            f"RETURNING {key}, {failures}, {expires_at}"
        )
        params = [value for item in items for value in item] + [now, now]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            counters = {row[0]: (row[1], row[2]) for row in cursor.fetchall()}
        if next(self._attempts) % self.PURGE_EVERY == 0:
            self.purge(now=now)
        return counters

    def release(self, keys: list[str]) -> None:
        # An upsert too, not an UPDATE … WHERE key IN: an UPDATE locks rows in whatever order
        # its plan scans them, which can deadlock against a reserve locking them in key order.
        # (A counter purged meanwhile comes back empty and already expired.)
        connection, table, key, failures, expires_at = self._sql()
        rows = ", ".join(["(%s, 0, 0)"] * len(keys))
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} ({key}, {failures}, {expires_at}) VALUES {rows} "
                f"ON CONFLICT ({key}) DO UPDATE SET "
                f"{failures} = CASE WHEN {table}.{failures} > 0 THEN {table}.{failures} - 1 ELSE 0 END",
                sorted(keys),
            )

    def probe(self) -> None:
        pass  # the database is /readyz's own check

    def purge(self, *, now: float, batch: int | None = None) -> int:
        """Delete up to `batch` counters whose window has ended; returns how many."""
        connection, table, key, _, expires_at = self._sql()
        return delete_ended(connection, table, key, expires_at, now=now, batch=batch or self.PURGE_BATCH)


def delete_ended(connection, table: str, key: str, expires_at: str, *, now: float, batch: int) -> int:
    """Delete up to `batch` rows of `table` (quoted names) whose `expires_at` has passed; returns how many.

    PostgreSQL: rows a request holds are skipped, so a purge never waits on one (no deadlock). Two statements:
    PostgreSQL may run a LIMIT subquery inside DELETE … IN more than once and delete more than one batch. The
    DELETE repeats the expiry test, so a row revived in between stays.
    """
    skip = " FOR UPDATE SKIP LOCKED" if connection.features.has_select_for_update_skip_locked else ""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {key} FROM {table} WHERE {expires_at} <= %s LIMIT %s{skip}", [now, batch])
        doomed = [row[0] for row in cursor.fetchall()]
        if not doomed:
            return 0
        cursor.execute(
            f"DELETE FROM {table} WHERE {expires_at} <= %s AND {key} IN ({', '.join(['%s'] * len(doomed))})",
            [now, *doomed],
        )
        return cursor.rowcount


# Both scripts run atomically inside Redis. A counter is a hash: n (failures and attempts
# in flight) and e (the window's end, by the portal's clock). Its Redis expiry is set once,
# when the window starts, and only frees the memory; `e` decides.
_REDIS_RESERVE = """
local now = tonumber(ARGV[1])
local out = {}
for i, key in ipairs(KEYS) do
  local values = redis.call('HMGET', key, 'n', 'e')
  local n = tonumber(values[1]) or 0
  local e = tonumber(values[2]) or 0
  if n <= 0 or e <= now then
    redis.call('HSET', key, 'n', 1, 'e', ARGV[1 + i])
    redis.call('EXPIRE', key, ARGV[1 + #KEYS + i])
    out[i] = {1, ARGV[1 + i]}
  else
    out[i] = {redis.call('HINCRBY', key, 'n', 1), values[2]}
  end
end
return out
"""
_REDIS_RELEASE = """
for _, key in ipairs(KEYS) do
  local n = tonumber(redis.call('HGET', key, 'n'))
  if n and n > 0 then redis.call('HINCRBY', key, 'n', -1) end
end
return 0
"""


class RedisStore:
    """Counters in the Redis of CACHE_URL, which must not evict (see check_redis_eviction_policy)."""

    def __init__(self, cache: RedisCache):
        import redis

        self.cache = cache
        self.unavailable = redis.RedisError

    def _client(self):
        return self.cache._cache.get_client(write=True)

    def _key(self, key: str) -> str:
        return self.cache.make_key(f"failures:{key}")

    def peek(self, keys: list[str], *, now: float) -> dict[str, tuple[int, float]]:
        pipeline = self._client().pipeline(transaction=False)
        for key in keys:
            pipeline.hmget(self._key(key), "n", "e")
        found = {}
        for key, (n, e) in zip(keys, pipeline.execute(), strict=True):
            if n is not None and e is not None and float(e) > now:
                found[key] = (int(n), float(e))
        return found

    def reserve(self, starts: dict[str, float], *, now: float) -> dict[str, tuple[int, float]]:
        keys = list(starts)
        ttls = [math.ceil(start - now) + 1 for start in starts.values()]
        result = self._client().eval(
            _REDIS_RESERVE, len(keys), *map(self._key, keys), repr(now), *map(repr, starts.values()), *ttls
        )
        return {key: (int(n), float(e)) for key, (n, e) in zip(keys, result, strict=True)}

    def release(self, keys: list[str]) -> None:
        try:
            self._client().eval(_REDIS_RELEASE, len(keys), *map(self._key, keys))
        except self.unavailable as error:
            logger.warning("Brute-force counters unavailable, a place was not given back: %s", error.__class__.__name__)

    def probe(self) -> None:
        self._client().set(self.cache.make_key("readyz-probe"), 1, ex=5)

    def purge(self, *, now: float, batch: int | None = None) -> int:
        return 0  # Redis frees expired counters itself


def _store():
    cache = caches["default"]
    return RedisStore(cache) if isinstance(cache, RedisCache) else DatabaseStore()


# Every policy but noeviction lets Redis drop keys under memory pressure; the volatile-*
# ones pick exactly the keys that carry an expiry, which every counter does.
SAFE_REDIS_POLICY = "noeviction"


def check_redis_eviction_policy() -> None:
    """Refuse to start on a Redis that may evict counters before their windows end."""
    cache = caches["default"]
    if not isinstance(cache, RedisCache):
        return
    import redis

    try:
        policy = cache._cache.get_client(write=True).config_get("maxmemory-policy").get("maxmemory-policy")
    except redis.ResponseError as error:
        # Some managed services disable CONFIG; their documentation has to say the policy instead.
        logger.warning("Could not read Redis maxmemory-policy (%s); it must be %s.", error, SAFE_REDIS_POLICY)
        return
    except redis.RedisError as error:
        # Contract: with Redis down the portal still serves, without the limits.
        logger.warning("Redis unreachable at start-up (%s); brute-force limits are skipped while it is.", error)
        return
    if policy != SAFE_REDIS_POLICY:
        raise ImproperlyConfigured(
            f"The Redis named by CACHE_URL has maxmemory-policy {policy!r}: it may evict brute-force counters "
            f"before their windows end, which lifts lockouts. Set maxmemory-policy {SAFE_REDIS_POLICY} "
            f"(redis.conf, or CONFIG SET maxmemory-policy {SAFE_REDIS_POLICY})."
        )
