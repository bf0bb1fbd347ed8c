"""Degrade, do not fail: what the portal answers while the database is away.

Every request that needs it answers 503 with `Retry-After` (JSON for the API and the token
endpoint, a plain page elsewhere); the connection settings make that happen within seconds,
and CONN_HEALTH_CHECKS reconnects once the database is back. (The shared cache holds only the
brute-force counters, whose store skips them while it is away: throttle/limits.py.)
"""

import functools
import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template import loader
from django.urls import reverse

logger = logging.getLogger("ops.outage")

RETRY_AFTER_SECONDS = 5
DATABASE_ERRORS = (OperationalError, InterfaceError)


# The API, the OAuth endpoints, the metadata documents and leak reports speak JSON, also when Django itself refuses a
# request before any view runs: every path in the folders these URLs are in.
JSON_URL_NAMES = ("api:root", "oauth-token", "oauth-metadata", "secret-scanning-github")


@functools.cache
def _json_folders() -> tuple[str, ...]:
    return tuple(reverse(name).rpartition("/")[0] + "/" for name in JSON_URL_NAMES)


def answers_json(request) -> bool:
    folders = _json_folders()
    return request.path.startswith(folders) or request.path + "/" in folders


def unavailable_response(request) -> HttpResponse:
    """503 while the database is away; the client may retry after a few seconds."""
    if request.path.startswith("/oauth/"):
        response = JsonResponse(
            {
                "error": "temporarily_unavailable",
                "error_description": "The service is briefly unavailable; retry shortly.",
            },
            status=503,
        )
    elif answers_json(request):
        response = JsonResponse({"detail": "The service is briefly unavailable; retry shortly."}, status=503)
    else:
        # A template of its own that needs neither the database nor a context processor.
        response = HttpResponse(loader.get_template("503.html").render(), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


def database_error_in_flight() -> bool:
    """True inside an `except` block whose exception says the database cannot be reached."""
    return isinstance(sys.exc_info()[1], DATABASE_ERRORS)


class DatabaseOutageMiddleware:
    """Turns a view's lost database connection into a 503 instead of a 500 with a traceback."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, DATABASE_ERRORS):
            logger.warning("database unavailable: %s %s answered 503 (%s)", request.method, request.path, exception)
            request.outage = "database"
            return unavailable_response(request)
        return None
