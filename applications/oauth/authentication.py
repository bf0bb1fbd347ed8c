"""Client authentication of a token request: the one reading of HTTP Basic, body credentials and client assertions.

The brute-force limiter counts on what this returns and the validator checks exactly
what it returns, so no spelling of a header can be counted one way and authenticated
another. It reads strictly: a Basic header it cannot read is refused, never passed on.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import unquote_plus

from django.views.decorators.debug import sensitive_variables
from oauthlib.oauth2.rfc6749 import errors

from applications.oauth.assertions import JWT_BEARER, unverified_claim, unverified_subject

if TYPE_CHECKING:
    from applications.models import Application, ClientSecret, FederatedCredential, PublicKey


class ClientAuthenticationError(Exception):
    """A request whose client authentication cannot be read: refused before any secret is checked."""

    def __init__(self, error_class: type[errors.OAuth2Error], description: str):
        super().__init__(description)
        self.error_class = error_class
        self.description = description

    def oauth2_error(self, request=None) -> errors.OAuth2Error:
        return self.error_class(description=self.description, request=request)


def _unreadable(description: str) -> ClientAuthenticationError:
    # RFC 6749 §5.2: invalid_client (401) covers "unsupported authentication method".
    return ClientAuthenticationError(errors.InvalidClientError, description)


def _malformed(description: str) -> ClientAuthenticationError:
    return ClientAuthenticationError(errors.InvalidRequestError, description)


@dataclass(frozen=True)
class ClientCredentials:
    client_id: str | None  # None when the request names no client
    client_secret: str | None = field(repr=False)
    # RFC 7523 §2.2: a signed JWT instead of a secret (contract §10).
    client_assertion: str | None = field(default=None, repr=False)
    # The assertion is a workload's token from an external issuer (a federated credential's), not the client's own.
    federated: bool = False

    @property
    def kind(self) -> str:
        """Which check these credentials go to: "federated", "assertion" or "secret"."""
        if self.client_assertion is None:
            return "secret"
        return "federated" if self.federated else "assertion"


@dataclass
class ClientAuthentication:
    """One request's client authentication: the credentials read once, by `client_credentials`, and what checking
    them found.

    The backend counts failures on the credentials and hands this to its own validator, which checks them and
    records here the application and the credential that authenticated it (the token issued is linked to that).
    """

    credentials: ClientCredentials
    # The client's address (contract §11): the application's allowed networks are checked against it.
    address: str | None = None
    application: Application | None = None
    # The credential that authenticated: one of these is set.
    secret: ClientSecret | None = None
    key: PublicKey | None = None
    federated_credential: FederatedCredential | None = None

    @property
    def credential(self) -> ClientSecret | PublicKey | FederatedCredential | None:
        return self.secret or self.key or self.federated_credential


@sensitive_variables()
def read_basic(authorization: str) -> tuple[str, str] | None:
    """(client ID, secret) of an `Authorization: Basic` header; None for no header; refused when unreadable.

    RFC 7235: the scheme is case-insensitive and followed by one or more spaces. RFC 7617:
    strict base64 (no stray characters, correct padding) of UTF-8 `id:secret`. RFC 6749
    §2.3.1: both halves are form-urlencoded before encoding, so both are decoded here.
    """
    if not authorization:
        return None
    scheme, _, rest = authorization.partition(" ")
    if scheme.lower() != "basic":
        raise _unreadable("Authenticate with HTTP Basic or client_id and client_secret in the body.")
    encoded = rest.lstrip(" ")
    if not encoded or " " in encoded:
        raise _unreadable("The Basic credentials are not one base64 string.")
    try:
        decoded = base64.b64decode(encoded, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):  # ValueError: non-ASCII characters, and UnicodeDecodeError
        raise _unreadable("The Basic credentials are not base64 of UTF-8 text.")
    raw_id, colon, raw_secret = decoded.partition(":")
    if not colon:
        raise _unreadable("The Basic credentials hold no ':' between client ID and secret.")
    try:
        client_id = unquote_plus(raw_id, errors="strict")
        client_secret = unquote_plus(raw_secret, errors="strict")
    except UnicodeDecodeError:
        raise _unreadable("The Basic credentials are not form-urlencoded UTF-8.")
    if not client_id or "\x00" in client_id or "\x00" in client_secret:
        raise _unreadable("The Basic credentials hold no usable client ID.")
    return client_id, client_secret


_BODY_FIELDS = ("client_id", "client_secret", "client_assertion_type", "client_assertion")


@sensitive_variables()
def client_credentials(authorization: str | None, params) -> ClientCredentials:
    """The client a token request authenticates as, from its Authorization header and body parameters.

    One method per request (RFC 6749 §2.3.1, RFC 7521 §4.2): body credentials that differ from the Basic
    ones are refused; the same ones sent both ways (some older clients do) try nothing more. A client
    assertion comes alone, with at most the client_id it names.
    """
    body: dict[str, str] = {}
    for name, value in params:
        if name in _BODY_FIELDS:
            if name in body:
                raise _malformed(f"{name} is given more than once.")
            body[name] = value
    if "client_assertion_type" in body or "client_assertion" in body:
        return _assertion_credentials(authorization, body)
    basic = read_basic(authorization)
    if basic is None:
        return ClientCredentials(body.get("client_id") or None, body.get("client_secret"))
    client_id, client_secret = basic
    # An empty body field names nothing; some clients send client_id= beside Basic.
    if body.get("client_id") and body["client_id"] != client_id:
        raise _malformed("client_id in the body does not match the HTTP Basic credentials.")
    if body.get("client_secret") and body["client_secret"] != client_secret:
        raise _malformed("Use one client authentication method: HTTP Basic or client_secret in the body, not both.")
    return ClientCredentials(client_id, client_secret)


@sensitive_variables()
def _assertion_credentials(authorization: str | None, body: dict[str, str]) -> ClientCredentials:
    if body.get("client_assertion_type") != JWT_BEARER:
        raise _malformed(f"client_assertion_type must be {JWT_BEARER}.")
    if "client_assertion" not in body:
        raise _malformed("client_assertion is missing.")
    if authorization or "client_secret" in body:
        raise _malformed("Use one client authentication method: a client assertion alone, without a secret.")
    # The failures of a refused assertion count against the client it names: client_id, else its unverified sub.
    named = body.get("client_id")
    client_id = named or unverified_subject(body["client_assertion"])
    # A private_key_jwt assertion's iss is the client ID. A workload's token (contract §10) names its application with
    # client_id, which it requires, and its iss is its issuer, an https URL, which no client ID is: either way the
    # path chosen verifies everything it accepts, so choosing by an unverified claim opens nothing.
    federated = bool(named) and unverified_claim(body["client_assertion"], "iss") != named
    return ClientCredentials(client_id, None, body["client_assertion"], federated)
