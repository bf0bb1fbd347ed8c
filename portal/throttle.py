"""Failure counters in the shared cache, so a limit holds across every worker and server.

Each subject counts its failures in fixed windows; once a window holds `limit`
failures the subject is locked out until that window ends, whatever it sends.
"""

import hashlib
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache


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

    def key(self, subject: str, now: float) -> tuple[str, float]:
        # Subjects are attacker-chosen strings: hash them into fixed-size keys.
        digest = hashlib.sha256(subject.encode("utf-8", "surrogatepass")).hexdigest()
        bucket = int(now // self.window)
        return f"failures:{self.name}:{digest}:{bucket}", (bucket + 1) * self.window


def retry_after(checks: list[tuple[Limit, str]]) -> int:
    """Seconds until every subject may try again; 0 when none is locked out."""
    now = time.time()
    keys = {}
    for limit, subject in checks:
        key, window_end = limit.key(subject, now)
        keys[key] = (limit, window_end)
    wait = 0
    for key, failures in cache.get_many(list(keys)).items():
        limit, window_end = keys[key]
        if failures >= limit.count:
            wait = max(wait, int(window_end - now) + 1)
    return wait


def record_failure(checks: list[tuple[Limit, str]]) -> list[Limit]:
    """Count one failure for each subject; returns the limits this failure has just reached."""
    now = time.time()
    reached = []
    for limit, subject in checks:
        key, window_end = limit.key(subject, now)
        cache.add(key, 0, timeout=int(window_end - now) + 1)
        try:
            failures = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=limit.window)
            failures = 1
        if failures == limit.count:
            reached.append(limit)
    return reached
