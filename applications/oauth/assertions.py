"""Client assertions (RFC 7523 §2.2, contract §10): a JWT the client signs, checked against its live public keys.

Signatures are verified with joserfc, given for each key exactly the algorithms of that key's family, so `none`,
any HS* (an HMAC keyed with the public key's PEM, say) and an algorithm of another family never verify. The
claims are checked here, one rule each, and the `jti` is accepted once per client (throttle.once) only after
everything else held, so an unsigned or unfit assertion cannot use up a client's jti.
"""

import base64
import binascii
import json
import math
import warnings
from dataclasses import dataclass
from functools import lru_cache

from django.views.decorators.debug import sensitive_variables
from joserfc import jwt
from joserfc.errors import JoseError, SecurityWarning
from joserfc.jwk import ECKey, OKPKey, RSAKey

from applications.keys import ALGORITHMS
from throttle import once

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
# Far above any assertion signed with the keys accepted (an RSA-8192 signature is 1,366 characters), far below
# the body limit: what is read of an assertion before its signature is checked stays small.
MAX_ASSERTION_LENGTH = 8192
LEEWAY = 60  # seconds of clock skew allowed either way
MAX_LIFETIME = 3600  # how far ahead `exp` may be
MAX_JTI_LENGTH = 255

# RFC 9864 deprecates the polymorphic "EdDSA" name for "Ed25519"; the contract names EdDSA, and only Ed25519
# keys are ever accepted for it.
warnings.filterwarnings("ignore", message="EdDSA is deprecated", category=SecurityWarning)

_KEY_CLASSES = {"RS256": RSAKey, "ES256": ECKey, "EdDSA": OKPKey}


class AssertionRefused(Exception):
    """The assertion does not authenticate its client; the reason is for tests and logs, never for the client."""


@dataclass(frozen=True)
class Header:
    alg: str
    kid: str | None


def _segment_json(segment: str):
    try:
        return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (binascii.Error, ValueError, RecursionError):  # RecursionError: "[[[[…", nested past the parser's depth
        return None


def _parts(assertion: str) -> list[str] | None:
    if not assertion or len(assertion) > MAX_ASSERTION_LENGTH:
        return None
    parts = assertion.split(".")
    return parts if len(parts) == 3 else None


@sensitive_variables()
def unverified_claim(assertion: str, name: str) -> str | None:
    """A claim of an assertion (a string), read without checking anything: only to name the client it counts against
    (`sub`) and to tell a workload's token from a client's own assertion (`iss`)."""
    parts = _parts(assertion)
    claims = _segment_json(parts[1]) if parts else None
    value = claims.get(name) if isinstance(claims, dict) else None
    return value if isinstance(value, str) and value else None


def unverified_subject(assertion: str) -> str | None:
    return unverified_claim(assertion, "sub")


@sensitive_variables()
def read_unverified(assertion: str) -> tuple[Header, dict]:
    """The header and claims of a compact JWS, checked for shape only; AssertionRefused when it has none."""
    parts = _parts(assertion)
    if parts is None:
        raise AssertionRefused("not a compact JWS")
    header, claims = _header(parts), _segment_json(parts[1])
    if not isinstance(claims, dict):
        raise AssertionRefused("unreadable claims")
    return header, claims


@lru_cache(maxsize=512)
def _verification_key(pem: str, alg: str):
    # A key's PEM never changes (a new key is a new row): parsed once per process, keyed by the PEM itself.
    # Whether the key may be used is read from the database on every request, never from here.
    return _KEY_CLASSES[alg].import_key(pem)


def _header(parts: list[str]) -> Header:
    header = _segment_json(parts[0])
    if not isinstance(header, dict) or not isinstance(header.get("alg"), str):
        raise AssertionRefused("unreadable header")
    kid = header.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise AssertionRefused("kid is not a string")
    if "crit" in header:
        # RFC 7515 §4.1.11: extensions a verifier must understand; this one understands none.
        raise AssertionRefused("crit header")
    return Header(header["alg"], kid)


@sensitive_variables()
def verified_key(assertion: str, keys: list):
    """(the key among `keys` whose private key signed `assertion`, its claims); raises AssertionRefused.

    The `kid` header picks the key; without one each key that fits the header's algorithm is tried.
    """
    parts = _parts(assertion)
    if parts is None:
        raise AssertionRefused("not a compact JWS")
    header = _header(parts)
    if header.kid is not None:
        keys = [key for key in keys if key.kid == header.kid]
        if not keys:
            raise AssertionRefused("unknown kid")
    candidates = [key for key in keys if header.alg in ALGORITHMS[key.alg]]
    if not candidates:
        raise AssertionRefused(f"no live key verifies {header.alg[:16]!r}")
    for key in candidates:
        try:
            # Exactly the algorithms of this key's family; joserfc also checks the key type against the algorithm.
            token = jwt.decode(assertion, _verification_key(key.public_key, key.alg), algorithms=ALGORITHMS[key.alg])
        except JoseError:
            continue
        except Exception:  # whatever else the library trips on in what a client sent is a refusal, never a 500
            continue
        return key, token.claims
    raise AssertionRefused("bad signature")


def number(claims: dict, name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise AssertionRefused(f"{name} is not a number")
    return float(value)


def check_claims(claims: dict, *, client_id: str, audiences: set[str], now: float) -> tuple[str, float]:
    """The rules of contract §10 for a private_key_jwt assertion; returns (jti, until when it must stay claimed)."""
    if claims.get("iss") != client_id or claims.get("sub") != client_id:
        raise AssertionRefused("iss and sub must both be the client ID")
    audience = claims.get("aud")
    named = [audience] if isinstance(audience, str) else audience if isinstance(audience, list) else []
    if not any(isinstance(value, str) and value in audiences for value in named):
        raise AssertionRefused("aud names no endpoint of this server")
    expires = number(claims, "exp")
    if expires is None:
        raise AssertionRefused("no exp")
    if expires <= now - LEEWAY:
        raise AssertionRefused("expired")
    if expires > now + MAX_LIFETIME + LEEWAY:
        raise AssertionRefused("exp too far ahead")
    not_before = number(claims, "nbf")
    if not_before is not None and not_before > now + LEEWAY:
        raise AssertionRefused("not valid yet")
    issued = number(claims, "iat")
    if issued is not None and issued > now + LEEWAY:
        raise AssertionRefused("issued in the future")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti or len(jti) > MAX_JTI_LENGTH:
        raise AssertionRefused("no usable jti")
    return jti, expires + LEEWAY


def accept_once(*, client_id: str, jti: str, until: float) -> None:
    """Claim the assertion's jti for its client until it can no longer be accepted; a replay is refused.

    Raises once.Unavailable when the store cannot say (the caller refuses: it fails closed).
    """
    if not once.claim_once(f"jti\x00{client_id}\x00{jti}", until=until):
        raise AssertionRefused("jti already used")
