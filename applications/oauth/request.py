"""Token, revocation and introspection requests: the body parsed strictly, and the brute-force limits
around client authentication."""

import base64
import binascii
import json
from urllib.parse import parse_qsl, unquote_plus

from django.conf import settings
from oauthlib.common import urlencode
from oauth2_provider.oauth2_backends import OAuthLibCore
from oauthlib.oauth2 import OAuth2Error
from oauthlib.oauth2.rfc6749 import errors

from applications.services import record_lockout
from portal.origin import public_origin
from portal.outage import unless_cache_down
from portal.throttle import Limit, record_failure, retry_after

PER_CLIENT = Limit("token-client", "TOKEN_PER_CLIENT")
PER_ADDRESS = Limit("token-address", "TOKEN_PER_ADDRESS")


def basic_client_id(request) -> str | None:
    """The client ID of an HTTP Basic Authorization header, or None when there is none or it is unreadable."""
    scheme, _, credentials = (request.headers.get("Authorization") or "").partition(" ")
    if scheme != "Basic":
        return None
    try:
        decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, separator, _ = decoded.partition(":")
    return unquote_plus(client_id) if separator else None


class MalformedTokenRequest(Exception):
    pass


def parse_token_body(request) -> list[tuple[str, str]]:
    """The token request's parameters from a form-encoded or JSON body, strictly decoded."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise MalformedTokenRequest("Content-Length is not a number.")
    if length > settings.TOKEN_REQUEST_MAX_BYTES:
        raise MalformedTokenRequest("The request body is too large.")
    body = request.body
    if not body:
        return []
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedTokenRequest("The request body is not UTF-8.")

    if request.content_type == "application/x-www-form-urlencoded":
        try:
            params = parse_qsl(text, keep_blank_values=True, errors="strict", max_num_fields=50)
        except (UnicodeDecodeError, ValueError):
            raise MalformedTokenRequest("The request body is not valid form encoding.")
    elif request.content_type == "application/json":
        try:
            data = json.loads(text)
        except ValueError:
            raise MalformedTokenRequest("The request body is not valid JSON.")
        if not isinstance(data, dict):
            raise MalformedTokenRequest("The JSON body must be an object.")
        if not all(isinstance(value, str) for value in data.values()):
            raise MalformedTokenRequest("Every JSON field must be a string.")
        params = list(data.items())
    else:
        raise MalformedTokenRequest("Send application/x-www-form-urlencoded or application/json.")

    if any("\x00" in key or "\x00" in value for key, value in params):
        raise MalformedTokenRequest("The request contains a NUL character.")
    try:
        # JSON's \ud800 escapes decode to lone surrogates, which no UTF-8 text can hold.
        for key, value in params:
            key.encode("utf-8"), value.encode("utf-8")
    except UnicodeEncodeError:
        raise MalformedTokenRequest("The request contains an unpaired surrogate escape.")
    return [_normalise(key, value) for key, value in params if not (key == "scope" and not value.split())]


def _normalise(key: str, value: str) -> tuple[str, str]:
    # oauthlib splits scope on single spaces only: collapse runs of whitespace first.
    return (key, " ".join(value.split())) if key == "scope" else (key, value)


class TokenRequestBackend(OAuthLibCore):
    """The token, revocation and introspection endpoints' request handling: a strict form or JSON body,
    and the brute-force limits, one path for all three.

    Failures are refused before oauthlib runs when a limit is reached, and counted after a 401.
    API bearer checks never come here: api.authentication reads the Authorization header itself.
    """

    def extract_body(self, request):
        # The toolkit's own paths (verify_request and friends) read no body; only the token request does.
        return []

    def create_token_response(self, request):
        return self._respond(request, self.server.create_token_response)

    def create_revocation_response(self, request):
        return self._respond(request, self.server.create_revocation_response)

    def create_introspect_response(self, request):
        return self._respond(request, self.server.create_introspect_response)

    def _respond(self, request, endpoint):
        # Failed client authentications at any of the three endpoints count toward the same limits.
        try:
            params = parse_token_body(request)
        except MalformedTokenRequest as error:
            failure = errors.InvalidRequestError(description=str(error))
            return None, failure.headers, failure.json, failure.status_code

        client_id = basic_client_id(request) or dict(params).get("client_id")
        checks = [(PER_ADDRESS, request.META.get("REMOTE_ADDR", ""))]
        if client_id:
            checks.append((PER_CLIENT, client_id))
        request.client_id = client_id  # for the request log line
        wait = unless_cache_down(retry_after, checks, default=0, what="token brute-force check")
        if wait:
            # Locked out: even a correct secret fails until the window ends.
            body = json.dumps(
                {"error": "too_many_attempts", "error_description": f"Too many failed client authentications; retry in {wait} seconds."}
            )
            return None, {"Retry-After": str(wait)}, body, 429

        uri, http_method, _, headers = self._extract_params(request)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            headers, body, status = endpoint(public_origin(request) + uri, http_method, urlencode(params), headers)
        except OAuth2Error as error:
            headers, body, status = error.headers, error.json, error.status_code
        if status == 401 and PER_CLIENT in unless_cache_down(
            record_failure, checks, default=[], what="token failure count"
        ):
            record_lockout(client_id=client_id, address=request.META.get("REMOTE_ADDR"))
        return None, headers, body, status
