"""Prometheus metrics, totalled over every worker process of a server (contract §8).

Under `python -m ops.serve` each worker writes its values to files in
PROMETHEUS_MULTIPROC_DIR and `/metrics` adds them up; without that variable (tests,
`manage.py runserver`) the process's own registry answers. Labels hold only fixed
vocabularies (status codes, OAuth error codes, URL patterns, methods), never a client ID,
secret, token or raw path.
"""

import os

from django.conf import settings
from django.dispatch import receiver
from django.http import Http404, HttpResponse
from django.utils.crypto import constant_time_compare
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from throttle import limits

TOKEN_REQUESTS = Counter(
    "portal_token_requests_total",
    "Token endpoint requests by outcome: issued, or the OAuth error code answered.",
    ["result"],
)
HTTP_REQUESTS = Counter("portal_http_requests_total", "HTTP requests answered, by status code.", ["status"])
REQUEST_LATENCY = Histogram(
    "portal_http_request_duration_seconds",
    "Time from the request reaching Django to its response, by URL pattern and method.",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
BRUTE_FORCE_COUNTER_FAILURES = Counter(
    "portal_brute_force_counter_failures_total",
    "Brute-force counter calls that failed (the store unreachable, full or read-only); after each, the worker "
    "that made it skips the limits for 2 s.",
)

KNOWN_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


def observe_request(*, route: str, method: str, status: int, seconds: float) -> None:
    HTTP_REQUESTS.labels(status=str(status)).inc()
    # An attacker chooses the method: anything unusual shares one label value.
    REQUEST_LATENCY.labels(route=route, method=method if method in KNOWN_METHODS else "other").observe(seconds)


def count_token_request(result: str) -> None:
    TOKEN_REQUESTS.labels(result=result).inc()


@receiver(limits.store_unavailable, dispatch_uid="ops.metrics.count_brute_force_counter_failure")
def count_brute_force_counter_failure(**kwargs) -> None:
    BRUTE_FORCE_COUNTER_FAILURES.inc()


def _registry():
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        return registry
    return REGISTRY


@never_cache
@require_safe
def metrics_view(request):
    """`GET /metrics` with `Authorization: Bearer <METRICS_TOKEN>`; 404 while METRICS_TOKEN is unset, 401 otherwise."""
    expected = settings.METRICS_TOKEN
    if not expected:
        raise Http404
    scheme, _, given = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() != "bearer" or not constant_time_compare(given.strip(), expected):
        response = HttpResponse("A valid metrics bearer token is required.\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)
