"""Token, revocation and introspection requests: bodies parsed strictly, and the brute-force limits around
client authentication, one path for all three."""

import json
from dataclasses import dataclass
from urllib.parse import parse_qsl

from django.conf import settings
from django.views.decorators.debug import sensitive_variables
from oauth2_provider.oauth2_backends import OAuthLibCore
from oauthlib.common import urlencode
from oauthlib.oauth2 import OAuth2Error
from oauthlib.oauth2.rfc6749 import errors

from applications import strictjson
from applications.oauth.authentication import ClientAuthentication, ClientAuthenticationError, client_credentials
from applications.services import record_lockout
from portal.actors import client_address
from portal.origin import public_origin
from throttle import limits

# Client IDs are public: a client is locked out only where its failures come from.
PER_CLIENT_ADDRESS = limits.Limit("token-client-address", "TOKEN_PER_CLIENT_ADDRESS")
PER_ADDRESS = limits.Limit("token-address", "TOKEN_PER_ADDRESS")


class MalformedTokenRequest(Exception):
    pass


@dataclass(frozen=True)
class Outcome:
    """How the endpoint answered, for the access log and the metrics: the client ID as the request gave it (None when
    it named none), and the OAuth error answered (None for a success)."""

    client_id: str | None
    error: str | None


@sensitive_variables()
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
            data = strictjson.loads(text)
        except strictjson.RepeatedKey as repeated:
            raise MalformedTokenRequest(str(repeated))
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
        for key, value in params:
            key.encode("utf-8"), value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate, which JSON's \ud800 escapes can spell
        raise MalformedTokenRequest("The request contains text that is not valid Unicode.")
    return [_normalise(key, value) for key, value in params if not (key == "scope" and not value.split())]


def _normalise(key: str, value: str) -> tuple[str, str]:
    # oauthlib splits scope on single spaces only: collapse runs of whitespace first.
    return (key, " ".join(value.split())) if key == "scope" else (key, value)


def _refused(error: OAuth2Error, headers: dict | None = None):
    """(headers, body, status, error code) for a request refused outside oauthlib's endpoints, as they would answer."""
    return {**error.headers, **(headers or {})}, error.json, error.status_code, error.error


def _too_many_attempts(wait: int):
    description = f"Too many failed client authentications; retry in {wait} seconds."
    return _refused(
        errors.CustomOAuth2Error("too_many_attempts", description, status_code=429), {"Retry-After": str(wait)}
    )


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

    @sensitive_variables()
    def _respond(self, request, endpoint):
        # Failed client authentications at any of the three endpoints count toward the same limits.
        client_id = None

        def answer(headers, body, status, error):
            request.oauth_outcome = Outcome(client_id, error)
            return None, headers, body, status

        try:
            params = parse_token_body(request)
            credentials = client_credentials(request.headers.get("Authorization"), params)
        except MalformedTokenRequest as error:
            return answer(*_refused(errors.InvalidRequestError(description=str(error))))
        except ClientAuthenticationError as error:
            # Refused before any secret is checked: nothing to count.
            return answer(*_refused(error.oauth2_error()))

        client_id = credentials.client_id
        address = client_address(request) or ""
        checks = [(PER_ADDRESS, address)]
        if client_id:
            checks.append((PER_CLIENT_ADDRESS, f"{client_id}\n{address}"))
        lookout = limits.check(checks)
        if lookout.wait:
            # Locked out: even a correct secret fails here until the window ends.
            return answer(*_too_many_attempts(lookout.wait))

        # The validator checks exactly the credentials counted here, read once.
        self.server.request_validator.authentication = ClientAuthentication(credentials, address=address or None)
        uri, http_method, _, headers = self._extract_params(request)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            # oauthlib refuses any query string itself (invalid_request), credentials included.
            headers, body, status = endpoint(public_origin(request) + uri, http_method, urlencode(params), headers)
        except OAuth2Error as error:
            headers, body, status = error.headers, error.json, error.status_code
        if status == 401:
            failure = lookout.failed()
            if PER_CLIENT_ADDRESS in failure.reached:
                record_lockout(client_id=client_id, address=address)
            if failure.wait:
                # Past the limit (failures sent in parallel): answered as the lockout it now is.
                return answer(*_too_many_attempts(failure.wait))
        # oauthlib answered itself: its error is read back from the JSON it wrote.
        return answer(headers, body, status, None if status == 200 else _error_of(body))


def _error_of(body: str) -> str | None:
    try:
        error = json.loads(body).get("error")
    except (ValueError, AttributeError):
        return None
    return error if isinstance(error, str) else None
