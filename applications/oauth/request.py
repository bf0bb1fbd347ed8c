"""The token request: its body parsed strictly, and the brute-force limits around client authentication."""

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
from portal.throttle import Limit, record_failure, retry_after

PER_CLIENT = Limit("token-client", "TOKEN_PER_CLIENT")
PER_ADDRESS = Limit("token-address", "TOKEN_PER_ADDRESS")


def basic_credentials(request) -> tuple[str, str] | None:
    """The (client ID, secret) of an HTTP Basic Authorization header, or None when there is none or it is unreadable."""
    scheme, _, credentials = (request.headers.get("Authorization") or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, separator, secret = decoded.partition(":")
    return (unquote_plus(client_id), unquote_plus(secret)) if separator else None


def sends_basic_credentials(request) -> bool:
    """Whether the request chose HTTP Basic client authentication, readable or not."""
    return (request.headers.get("Authorization") or "").partition(" ")[0].lower() == "basic"


def basic_client_id(request) -> str | None:
    """The client ID of an HTTP Basic Authorization header, or None when there is none or it is unreadable."""
    credentials = basic_credentials(request)
    return credentials[0] if credentials else None


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
    return [_normalise(key, value) for key, value in params if not (key == "scope" and not value.split())]


def _normalise(key: str, value: str) -> tuple[str, str]:
    # oauthlib splits scope on single spaces only: collapse runs of whitespace first.
    return (key, " ".join(value.split())) if key == "scope" else (key, value)


class TokenRequestBackend(OAuthLibCore):
    """The token endpoint's request handling: a strict form or JSON body, and the brute-force limits.

    Failures are refused before oauthlib runs when a limit is reached, and counted after a 401.
    API bearer checks never come here: api.authentication reads the Authorization header itself.
    """

    def extract_body(self, request):
        # The toolkit's own paths (verify_request and friends) read no body; only the token request does.
        return []

    def create_token_response(self, request):
        try:
            params = parse_token_body(request)
        except MalformedTokenRequest as error:
            failure = errors.InvalidRequestError(description=str(error))
            return None, failure.headers, failure.json, failure.status_code

        client_id = basic_client_id(request) or dict(params).get("client_id")
        checks = [(PER_ADDRESS, request.META.get("REMOTE_ADDR", ""))]
        if client_id:
            checks.append((PER_CLIENT, client_id))
        wait = retry_after(checks)
        if wait:
            # Locked out: even a correct secret fails until the window ends.
            body = json.dumps(
                {"error": "too_many_attempts", "error_description": f"Too many failed client authentications; retry in {wait} seconds."}
            )
            return None, {"Retry-After": str(wait)}, body, 429

        uri, http_method, _, headers = self._extract_params(request)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            headers, body, status = self.server.create_token_response(
                public_origin(request) + uri, http_method, urlencode(params), headers
            )
        except OAuth2Error as error:
            headers, body, status = error.headers, error.json, error.status_code
        if status == 401 and PER_CLIENT in record_failure(checks):
            record_lockout(client_id=client_id, address=request.META.get("REMOTE_ADDR"))
        return None, headers, body, status
