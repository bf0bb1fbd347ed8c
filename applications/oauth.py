"""The OAuth 2.0 wiring around django-oauth-toolkit: secret hasher, scopes backend,
client-credentials server, validator and the request backend of the token endpoint."""

import base64
import binascii
import hashlib
import json
from urllib.parse import parse_qsl, unquote_plus, urlsplit

from django.conf import settings
from django.db import IntegrityError
from django.contrib.auth.hashers import BasePasswordHasher, mask_hash
from django.utils.crypto import constant_time_compare
from oauth2_provider.oauth2_backends import OAuthLibCore
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.scopes import BaseScopes
from oauthlib.common import urlencode
from oauthlib.oauth2 import BackendApplicationServer, OAuth2Error
from oauthlib.oauth2.rfc6749 import errors

from applications import scopes as catalog
from applications.services import record_lockout, record_use
from portal.origin import public_origin, token_audience
from portal.throttle import Limit, record_failure, retry_after

PER_CLIENT = Limit("token-client", "TOKEN_PER_CLIENT")
PER_ADDRESS = Limit("token-address", "TOKEN_PER_ADDRESS")


class ClientSecretHasher(BasePasswordHasher):
    """Salted SHA-256 for client secrets.

    Secrets are machine-generated with far more than 256 bits of entropy, so key
    stretching protects nothing and would only cap grants per second and hand an
    attacker a cheap way to burn CPU with wrong secrets.
    """

    algorithm = "sha256_salted"

    def encode(self, password, salt):
        self._check_encode_args(password, salt)
        digest = hashlib.sha256(f"{salt}{password}".encode()).hexdigest()
        return f"{self.algorithm}${salt}${digest}"

    def decode(self, encoded):
        algorithm, salt, digest = encoded.split("$", 2)
        assert algorithm == self.algorithm
        return {"algorithm": algorithm, "hash": digest, "salt": salt}

    def verify(self, password, encoded):
        salt = self.decode(encoded)["salt"]
        return constant_time_compare(encoded, self.encode(password, salt))

    def safe_summary(self, encoded):
        decoded = self.decode(encoded)
        return {"algorithm": decoded["algorithm"], "salt": mask_hash(decoded["salt"]), "hash": mask_hash(decoded["hash"])}

    def must_update(self, encoded):
        return False

    def harden_runtime(self, password, encoded):
        pass


class ApplicationScopes(BaseScopes):
    """An application may ask for its own scopes, and gets all of them when it asks for none."""

    def get_all_scopes(self):
        return catalog.SCOPES

    def get_available_scopes(self, application=None, request=None, *args, **kwargs):
        return application.scope_list if application is not None else list(catalog.SCOPES)

    def get_default_scopes(self, application=None, request=None, *args, **kwargs):
        return self.get_available_scopes(application, request)


def _basic_client_id(request) -> str | None:
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


def reject_conflicting_client_ids(request):
    # oauthlib answers this with a server_error; RFC 6749 §5.2 calls it invalid_request.
    basic_client_id = _basic_client_id(request)
    body_client_id = request.client_id
    if basic_client_id is not None and body_client_id and body_client_id != basic_client_id:
        raise errors.InvalidRequestError(
            description="client_id in the body does not match the HTTP Basic credentials.", request=request
        )


def check_audience(request):
    audience = getattr(request, "audience", None)
    if audience is None:
        return
    parts = urlsplit(request.uri)
    expected = token_audience(f"{parts.scheme}://{parts.netloc}")
    if audience != expected:
        raise errors.CustomOAuth2Error(
            error="invalid_target",
            description=f"audience must be {expected}.",
            status_code=400,
            request=request,
        )


class ClientCredentialsServer(BackendApplicationServer):
    """Only the client credentials grant: no other grant's code path is reachable."""

    def __init__(self, request_validator, *args, **kwargs):
        kwargs.pop("pre_token", None)  # the toolkit's device-flow hook; no device flow here
        super().__init__(request_validator, *args, **kwargs)
        self.credentials_grant.custom_validators.pre_token.append(reject_conflicting_client_ids)
        self.credentials_grant.custom_validators.post_token.append(check_audience)


class ApplicationValidator(OAuth2Validator):
    def save_bearer_token(self, token, request, *args, **kwargs):
        try:
            super().save_bearer_token(token, request, *args, **kwargs)
        except IntegrityError:
            # The application was deleted between authenticating and storing the token:
            # it issues no token after its deletion commits.
            raise errors.InvalidClientError(request=request)
        record_use(request.client)


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
    """Token requests in form or JSON bodies; bearer checks read only the Authorization header."""

    def extract_body(self, request):
        return []

    def create_token_response(self, request):
        try:
            params = parse_token_body(request)
        except MalformedTokenRequest as error:
            failure = errors.InvalidRequestError(description=str(error))
            return None, failure.headers, failure.json, failure.status_code

        client_id = _basic_client_id(request) or dict(params).get("client_id")
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
