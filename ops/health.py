"""`/healthz` and `/readyz` for load balancers and orchestrators (contract §8).

Liveness touches nothing outside the process. Readiness fails only on the database:
the cache holds nothing but brute-force counters, and pulling every server out of the
pool because of it would turn a degraded service into an outage.

The cache shows as failing when it cannot be written now, whichever worker answers (Redis
full at maxmemory with noeviction answers reads and refuses every write), and in the worker
whose own counter call failed within the last seconds (the limits are off there meanwhile).
"""

import logging

from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from throttle import limits

logger = logging.getLogger("ops.health")


@never_cache
@require_safe
def healthz_view(request):
    return JsonResponse({"status": "ok"})


def _database_answers() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return True
    except Exception as error:  # any failure means not ready; the reason goes to the log
        logger.warning("readiness: database failing (%s: %s)", type(error).__name__, error)
        # A broken connection must not linger into the next probe or request.
        connection.close_if_unusable_or_obsolete()
        return False


def _cache_answers() -> bool:
    try:
        cache.get("readyz-probe")
        limits.probe_store()
    except Exception as error:
        logger.warning("readiness: cache failing (%s: %s)", type(error).__name__, error)
        return False
    return not limits.limits_off()


@never_cache
@require_safe
def readyz_view(request):
    checks = {
        "database": "ok" if _database_answers() else "failing",
        "cache": "ok" if _cache_answers() else "failing",
    }
    ready = checks["database"] == "ok"
    return JsonResponse({"status": "ok" if ready else "failing", "checks": checks}, status=200 if ready else 503)
