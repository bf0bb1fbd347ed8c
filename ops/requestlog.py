"""One log record and one set of metrics per request: the portal's access log.

The server's own access log stays off (ops/serve.py), so this is the one place that
decides how a request appears in the log: the path without its query string, and any
URL segment that carries a secret (a converter named like `token`) shown as `…`. The log
handler's filter (ops/logging.py) escapes what a client sent, so one request is one line.
"""

import logging
import re
import time

from ops import metrics
from ops.clientaddress import PEER_ADDR
from ops.logging import redact_path
from portal.actors import client_address

logger = logging.getLogger("portal.request")

# URL arguments whose values must never reach a log line, by a word in their name.
SECRET_ARGUMENT_WORDS = ("token", "secret", "key")
# Probes a load balancer or Prometheus sends every few seconds: logged at DEBUG only.
QUIET_VIEWS = {"healthz", "readyz", "metrics"}
TOKEN_VIEW = "oauth-token"
# Every client ID the portal issues comes from the toolkit's generator (oauth2_provider.generators): 40 letters
# and digits. Whatever else a client sends as one (a secret pasted into the wrong field, say) is logged as `…`.
CLIENT_ID_SHAPE = re.compile(r"[A-Za-z0-9]{40}")


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
    """The calling application as sent to the token endpoint's backend, or the API's access token's; `…` when
    what was sent is not shaped like a client ID."""
    outcome = getattr(request, "oauth_outcome", None)
    client_id = outcome.client_id if outcome else None
    if not client_id:
        application = getattr(getattr(request, "auth", None), "application", None)
        client_id = getattr(application, "client_id", None)
    if not client_id:
        return None
    return client_id if CLIENT_ID_SHAPE.fullmatch(client_id) else "…"


def token_result(request) -> str:
    """`issued`, or the OAuth error the token endpoint answered, as the endpoint recorded it."""
    outcome = getattr(request, "oauth_outcome", None)
    if outcome is None:
        # Answered before the endpoint could record anything: the database outage's answer, or Django's refusal.
        return "temporarily_unavailable" if getattr(request, "outage", None) else "other"
    if outcome.error is None:
        return "issued"
    return outcome.error if outcome.error.isidentifier() and len(outcome.error) <= 40 else "other"


class RequestLogMiddleware:
    """Outermost but for the client address: times the whole request, then logs it and counts it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        seconds = time.perf_counter() - started
        route, view = route_of(request), view_name_of(request)
        metrics.observe_request(route=route, method=request.method, status=response.status_code, seconds=seconds)
        if view == TOKEN_VIEW:
            metrics.count_token_request(token_result(request))
        path = log_path(request)
        address = client_address(request) or ""
        fields = {
            "method": request.method,
            "path": path,
            "status": response.status_code,
            "duration_ms": round(seconds * 1000, 1),
            "remote_addr": address,
        }
        peer = request.META.get(PEER_ADDR)
        if peer and peer != address:
            fields["peer_addr"] = peer  # the proxy the client came through (TRUSTED_PROXIES)
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
