"""Public keys as contract §10 takes them: read from PEM or a JWK, checked, named by their RFC 7638 thumbprint.

Only public keys are ever kept. A private key sent by mistake is refused before anything of it is kept, and
no error message repeats any of what was sent.
"""

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from django.views.decorators.debug import sensitive_variables

# The signature algorithms each family of key verifies, and the one it is listed with (contract §10).
ALGORITHMS = {"RS256": ("RS256", "PS256"), "ES256": ("ES256",), "EdDSA": ("EdDSA",)}
SIGNING_ALGORITHMS = ["RS256", "PS256", "ES256", "EdDSA"]
RSA_MIN_BITS = 2048
# Verifying with a larger key costs more per request for no security anyone needs.
RSA_MAX_BITS = 8192
# Larger than any PEM or JWK of the keys above.
MAX_INPUT_LENGTH = 8192

PRIVATE_KEY = (
    "This is a private key, which must never leave the client: it was not kept. Upload its public key "
    "(for example the output of `openssl pkey -in private.pem -pubout`), or use Generate key pair."
)
CERTIFICATE = (
    "This is a certificate, not a public key: upload the public key it holds "
    "(`openssl x509 -in certificate.pem -pubkey -noout`)."
)
NOT_A_KEY = "This is not a public key: paste a PEM public key (-----BEGIN PUBLIC KEY-----) or a JWK JSON object."
KINDS = "Use an RSA key of 2048 to 8192 bits, an EC key on the P-256 curve, or an Ed25519 key."


class KeyRefused(ValueError):
    """What was uploaded is no key the portal takes; the message says why, and never quotes it."""


@dataclass(frozen=True)
class ParsedKey:
    pem: str  # SubjectPublicKeyInfo
    kid: str  # RFC 7638 thumbprint, SHA-256, base64url
    alg: str  # RS256, ES256 or EdDSA


_PEM_LABEL = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----")


@sensitive_variables()
def parse_public_key(value: str | dict) -> ParsedKey:
    """The public key in `value`: PEM text, a JWK as JSON text, or a JWK already decoded. Raises KeyRefused."""
    if isinstance(value, str):
        text = value.strip()
        if len(text) > MAX_INPUT_LENGTH:
            raise KeyRefused(NOT_A_KEY)
        if text.startswith("{"):
            try:
                value = json.loads(text)
            except ValueError:
                raise KeyRefused(NOT_A_KEY)
        else:
            return _from_public_key(_read_pem(text))
    if not isinstance(value, dict):
        raise KeyRefused(NOT_A_KEY)
    return _from_public_key(_read_jwk(value))


def _read_pem(text: str):
    labels = _PEM_LABEL.findall(text)
    # Refused by the label before any parsing: a private key's bytes reach no parser, log or message.
    if any("PRIVATE KEY" in label for label in labels):
        raise KeyRefused(PRIVATE_KEY)
    if any("CERTIFICATE" in label for label in labels):
        raise KeyRefused(CERTIFICATE)
    if labels != ["PUBLIC KEY"]:
        if labels == ["RSA PUBLIC KEY"]:
            raise KeyRefused(
                "This is an RSA key in PKCS#1 form: upload it as a SubjectPublicKeyInfo PEM "
                "(-----BEGIN PUBLIC KEY-----; `openssl rsa -RSAPublicKey_in -in key.pem -pubout`)."
            )
        raise KeyRefused(NOT_A_KEY)
    try:
        return serialization.load_pem_public_key(text.encode("ascii"))
    except (ValueError, UnsupportedAlgorithm, UnicodeEncodeError):
        raise KeyRefused(NOT_A_KEY)


# A JWK member that only a private or secret key has (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2).
_PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}


def _b64url(value, *, member: str) -> bytes:
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9_-]+", value):
        raise KeyRefused(f"The JWK's {member!r} is not base64url text.")
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise KeyRefused(f"The JWK's {member!r} is not base64url text.")


def _read_jwk(jwk: dict):
    if _PRIVATE_MEMBERS & set(jwk):
        raise KeyRefused(PRIVATE_KEY)
    kty, crv = jwk.get("kty"), jwk.get("crv")
    try:
        if kty == "RSA":
            n = int.from_bytes(_b64url(jwk.get("n"), member="n"))
            e = int.from_bytes(_b64url(jwk.get("e"), member="e"))
            key = rsa.RSAPublicNumbers(e, n).public_key()
        elif kty == "EC" and crv == "P-256":
            x, y = _b64url(jwk.get("x"), member="x"), _b64url(jwk.get("y"), member="y")
            if len(x) != 32 or len(y) != 32:
                raise KeyRefused("The JWK's x and y must be 32 bytes each on P-256.")
            key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b"\x04" + x + y)
        elif kty == "OKP" and crv == "Ed25519":
            key = ed25519.Ed25519PublicKey.from_public_bytes(_b64url(jwk.get("x"), member="x"))
        elif kty in ("RSA", "EC", "OKP"):
            raise KeyRefused(f"The curve {str(crv)[:20]!r} is not accepted. {KINDS}")
        else:
            raise KeyRefused(f"The key type {str(kty)[:20]!r} is not accepted. {KINDS}")
    except ValueError as error:
        if isinstance(error, KeyRefused):
            raise
        raise KeyRefused("The JWK does not describe a valid public key.")
    alg = jwk.get("alg")
    if alg is not None:
        family = _family(key)
        if alg not in ALGORITHMS[family]:
            raise KeyRefused(
                f"The JWK's alg {str(alg)[:20]!r} does not fit its key: use {', '.join(ALGORITHMS[family])}."
            )
    return key


def _family(key) -> str:
    if isinstance(key, rsa.RSAPublicKey):
        return "RS256"
    if isinstance(key, ec.EllipticCurvePublicKey):
        return "ES256"
    return "EdDSA"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _int_b64(number: int) -> str:
    return _b64(number.to_bytes(max(1, (number.bit_length() + 7) // 8)))


def public_jwk(key) -> dict:
    """The key's required JWK members (RFC 7638 §3.2), which are all its thumbprint hashes."""
    if isinstance(key, rsa.RSAPublicKey):
        numbers = key.public_numbers()
        return {"e": _int_b64(numbers.e), "kty": "RSA", "n": _int_b64(numbers.n)}
    if isinstance(key, ec.EllipticCurvePublicKey):
        numbers = key.public_numbers()
        return {"crv": "P-256", "kty": "EC", "x": _b64(numbers.x.to_bytes(32)), "y": _b64(numbers.y.to_bytes(32))}
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {"crv": "Ed25519", "kty": "OKP", "x": _b64(raw)}


def thumbprint(key) -> str:
    """RFC 7638: SHA-256 of the required members in lexicographic order, no whitespace, base64url."""
    members = json.dumps(public_jwk(key), sort_keys=True, separators=(",", ":"))
    return _b64(hashlib.sha256(members.encode("utf-8")).digest())


def _from_public_key(key) -> ParsedKey:
    if isinstance(key, rsa.RSAPublicKey):
        if not RSA_MIN_BITS <= key.key_size <= RSA_MAX_BITS:
            raise KeyRefused(f"This RSA key has {key.key_size} bits. {KINDS}")
        # A huge public exponent would make every verification slow; real keys use 65537.
        if key.public_numbers().e > 2**32:
            raise KeyRefused("This RSA key's public exponent is too large: use 65537.")
    elif isinstance(key, ec.EllipticCurvePublicKey):
        if not isinstance(key.curve, ec.SECP256R1):
            raise KeyRefused(f"This EC key is on the {key.curve.name} curve. {KINDS}")
    elif not isinstance(key, ed25519.Ed25519PublicKey):
        raise KeyRefused(f"This kind of key is not accepted. {KINDS}")
    pem = key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")
    return ParsedKey(pem=pem, kid=thumbprint(key), alg=_family(key))


@sensitive_variables()
def generate_key_pair() -> tuple[ParsedKey, str]:
    """A new EC P-256 key pair: its public key, and the private key as PKCS#8 PEM, which the caller shows once."""
    private = ec.generate_private_key(ec.SECP256R1())
    private_pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")
    return _from_public_key(private.public_key()), private_pem
