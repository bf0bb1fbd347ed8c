"""One log record and one set of metrics per request: the portal's access log.

The server's own access log stays off (ops/serve.py), so this is the one place that
decides how a request appears in the log: the path without its query string, and any
URL segment that carries a secret (a converter named like `token`) shown as `…`.
"""

import json
import logging
import time

from ops import metrics
from ops.logging import redact_path
from portal.actors import client_address

logger = logging.getLogger("portal.request")

# URL arguments whose values must never reach a log line, by a word in their name.
SECRET_ARGUMENT_WORDS = ("token", "secret", "key")
# Probes a load balancer or Prometheus sends every few seconds: logged at DEBUG only.
QUIET_VIEWS = {"healthz", "readyz", "metrics"}
TOKEN_VIEW = "oauth-token"


def log_path(request) -> str:
    """The path as logs show it: no query string, secret URL arguments replaced by `…`."""
    match = getattr(request, "resolver_match", None)
    secrets = set()
    if match:
        secrets = {str(value) for name, value in match.kwargs.items() if any(w in name for w in SECRET_ARGUMENT_WORDS)}
    path = "/".join("…" if segment in secrets else segment for segment in request.path.split("/"))
    return redact_path(path)  # also when no URL pattern matched


def route_of(request) -> str:
    """The URL pattern that matched (`api/credentials/<uuid:pk>`), never the raw path."""
    match = getattr(request, "resolver_match", None)
    return match.route if match and match.route else "unmatched"


def view_name_of(request) -> str | None:
    match = getattr(request, "resolver_match", None)
    return match.view_name if match else None


def client_id_of(request) -> str | None:
    """The calling application: set by the token endpoint's backend, or the API's access token."""
    client_id = getattr(request, "client_id", None)
    if client_id:
        return client_id
    application = getattr(getattr(request, "auth", None), "application", None)
    return getattr(application, "client_id", None)


def token_result(response) -> str:
    if response.status_code == 200:
        return "issued"
    try:
        error = json.loads(response.content).get("error")
    except (ValueError, AttributeError):
        error = None
    return error if isinstance(error, str) and error.isidentifier() and len(error) <= 40 else "other"


class RequestLogMiddleware:
    """Outermost: times the whole request, then logs it and counts it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        seconds = time.perf_counter() - started
        route, view = route_of(request), view_name_of(request)
        metrics.observe_request(route=route, method=request.method, status=response.status_code, seconds=seconds)
        if view == TOKEN_VIEW:
            metrics.count_token_request(token_result(response))
        path = log_path(request)
        fields = {
            "method": request.method,
            "path": path,
            "status": response.status_code,
            "duration_ms": round(seconds * 1000, 1),
            "remote_addr": client_address(request) or "",
        }
        client_id = client_id_of(request)
        if client_id:
            fields["client_id"] = client_id
        level = logging.DEBUG if view in QUIET_VIEWS else logging.INFO
        if logger.isEnabledFor(level):
            client = f" client={client_id}" if client_id else ""
            logger.log(
                level,
                "%s %s %s %.1fms%s",
                request.method,
                path,
                response.status_code,
                seconds * 1000,
                client,
                extra={"request_fields": fields},
            )
        return response
