import functools
import json

from django.http import HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from oauth2_provider.oauth2_backends import get_oauthlib_core

from applications.oauth.request import Outcome


def _json(body: str, status: int) -> HttpResponse:
    return HttpResponse(body, status=status, content_type="application/json")


def _post_only(endpoint: str) -> HttpResponse:
    body = {"error": "invalid_request", "error_description": f"The {endpoint} accepts POST only."}
    response = _json(json.dumps(body), 405)
    response["Allow"] = "POST"
    return response


def _oauth_response(headers: dict, body: str, status: int) -> HttpResponse:
    response = _json(body, status)
    for name, value in headers.items():
        if name.lower() != "content-type":
            response[name] = value
    if status == 401:
        # oauthlib answers Bearer; a client authenticates here with Basic (RFC 6749 §5.2).
        response["WWW-Authenticate"] = 'Basic realm="oauth"'
    return response


def _oauth_endpoint(description: str, *sensitive_parameters: str):
    """What every OAuth endpoint shares: POST only, no CSRF check (the client authenticates itself), never cached,
    and `sensitive_parameters` masked in error reports.

    Every local of the endpoint's frames and of every frame below them (the toolkit's and oauthlib's included) is
    hidden from error reports as well: several hold the secret or the token.
    """

    def decorate(view):
        @functools.wraps(view)
        def post_only(request):
            if request.method != "POST":
                request.oauth_outcome = Outcome(client_id=None, error="invalid_request")
                return _post_only(description)
            return view(request)

        masked = sensitive_post_parameters(*sensitive_parameters)(post_only)
        return sensitive_variables()(csrf_exempt(never_cache(masked)))

    return decorate


@_oauth_endpoint("token endpoint", "client_secret")
def token_view(request):
    """POST /oauth/token: client credentials grants; every outcome is an RFC 6749 JSON body."""
    _, headers, body, status = get_oauthlib_core().create_token_response(request)
    return _oauth_response(headers, body, status)


@_oauth_endpoint("revocation endpoint", "client_secret", "token")
def revoke_view(request):
    """POST /oauth/revoke (RFC 7009): the calling client revokes one of its own tokens."""
    _, headers, body, status = get_oauthlib_core().create_revocation_response(request)
    # oauthlib answers a revocation with an empty body; every answer here is JSON.
    return _oauth_response(headers, body or "{}", status)


@_oauth_endpoint("introspection endpoint", "client_secret", "token")
def introspect_view(request):
    """POST /oauth/introspect (RFC 7662): whether a token of the calling client's is active, and what it allows."""
    _, headers, body, status = get_oauthlib_core().create_introspect_response(request)
    return _oauth_response(headers, body, status)
