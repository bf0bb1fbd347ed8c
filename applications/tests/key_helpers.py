"""Key pairs and client assertions as a client makes them, for the tests of contract §10."""

import base64
import hashlib
import hmac
import json
import time
import uuid
from urllib.parse import urlencode

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from joserfc import jwt
from joserfc.jwk import ECKey, OKPKey, RSAKey

from applications.oauth.assertions import JWT_BEARER
from applications.tests.oauth_helpers import FORM

# The signing algorithm each kind of test key uses by default, and joserfc's class for it.
KINDS = {"RS256": RSAKey, "ES256": ECKey, "EdDSA": OKPKey}


def private_key(kind: str = "ES256", *, bits: int = 2048, curve=None):
    if kind == "RS256":
        return rsa.generate_private_key(public_exponent=65537, key_size=bits)
    if kind == "ES256":
        return ec.generate_private_key(curve or ec.SECP256R1())
    return ed25519.Ed25519PrivateKey.generate()


def public_pem(private) -> str:
    return (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def private_pem(private, form=serialization.PrivateFormat.PKCS8) -> str:
    return private.private_bytes(serialization.Encoding.PEM, form, serialization.NoEncryption()).decode()


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def claims_for(client_id: str, *, audience: str = "http://testserver/oauth/token", now=None, **overrides) -> dict:
    now = int(time.time() if now is None else now)
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "iat": now,
        "exp": now + 300,
        "jti": uuid.uuid4().hex,
    }
    claims.update(overrides)
    return {name: value for name, value in claims.items() if value is not None}


def sign(private, claims: dict, *, alg: str | None = None, kid: str | None = None, header: dict | None = None) -> str:
    """A compact JWS of `claims`, signed by `private` with `alg` (by default its kind's)."""
    kind = _kind(private)
    alg = alg or kind
    key = KINDS[kind].import_key(private_pem(private))
    protected = {"alg": alg, "typ": "JWT", **({"kid": kid} if kid else {}), **(header or {})}
    return jwt.encode(protected, claims, key, algorithms=[alg])


def unsigned(claims: dict, header: dict) -> str:
    """A JWS with any header, signed by nothing (alg none) or by `hmac_key` in the header (HS256)."""
    hmac_key = header.pop("hmac_key", None)
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    if hmac_key is None:
        return signing_input + "."
    return signing_input + "." + b64(hmac.new(hmac_key, signing_input.encode(), hashlib.sha256).digest())


def _kind(private) -> str:
    if isinstance(private, rsa.RSAPrivateKey):
        return "RS256"
    if isinstance(private, ec.EllipticCurvePrivateKey):
        return "ES256"
    return "EdDSA"


def assertion_body(assertion: str, *, client_id: str | None = None, **fields) -> dict:
    body = {"grant_type": "client_credentials", "client_assertion_type": JWT_BEARER, "client_assertion": assertion}
    if client_id is not None:
        body["client_id"] = client_id
    body.update(fields)
    return {name: value for name, value in body.items() if value is not None}


def post_assertion(
    client, assertion: str, *, path="/oauth/token", client_id=None, as_json=False, headers=None, **fields
):
    body = assertion_body(assertion, client_id=client_id, **fields)
    if path != "/oauth/token":
        body.pop("grant_type")
    if as_json:
        return client.post(path, json.dumps(body), content_type="application/json", **(headers or {}))
    return client.post(path, urlencode(body), content_type=FORM, **(headers or {}))
