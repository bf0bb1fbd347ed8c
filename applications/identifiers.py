"""Identifiable client secrets and access tokens (contract §6).

`ipcs_` (client secret) or `ipat_` (access token), 43 random characters, then a 6-character
base-62 CRC32 of everything before it. Secret scanners find them by the pattern and confirm
them by the checksum; the server refuses a mistyped or forged one without hashing it.
"""

import re
import secrets
import zlib

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
CLIENT_SECRET_PREFIX = "ipcs_"
ACCESS_TOKEN_PREFIX = "ipat_"
RANDOM_LENGTH = 43  # 43 × log2(62) ≈ 256.03 bits
CHECKSUM_LENGTH = 6  # 62**6 > 2**32: every CRC32 fits
_SHAPE = re.compile(f"[0-9A-Za-z]{{{RANDOM_LENGTH + CHECKSUM_LENGTH}}}")


def checksum(text: str) -> str:
    """The base-62 CRC32 of `text`'s ASCII bytes, most significant digit first, left-padded with 0."""
    value = zlib.crc32(text.encode("ascii"))
    digits = []
    while value:
        value, remainder = divmod(value, 62)
        digits.append(ALPHABET[remainder])
    return "".join(reversed(digits)).rjust(CHECKSUM_LENGTH, "0")


# Random bytes below 248 (4 × 62) map onto the alphabet evenly; the others are dropped.
_EVEN_BELOW = 256 - 256 % len(ALPHABET)


def _random_characters(count: int) -> str:
    # As secrets.choice would, uniformly from the OS's CSPRNG, at a fraction of the cost of a call per character.
    chosen = []
    while len(chosen) < count:
        chosen += [ALPHABET[byte % len(ALPHABET)] for byte in secrets.token_bytes(count + 8) if byte < _EVEN_BELOW]
    return "".join(chosen[:count])


def generate(prefix: str) -> str:
    body = prefix + _random_characters(RANDOM_LENGTH)
    return body + checksum(body)


def is_well_formed(value: str, prefix: str) -> bool:
    """Whether `value` has the prefix, the right length and alphabet, and a checksum that matches."""
    rest = value[len(prefix) :]
    if not value.startswith(prefix) or not _SHAPE.fullmatch(rest):
        return False
    return secrets.compare_digest(checksum(value[:-CHECKSUM_LENGTH]), value[-CHECKSUM_LENGTH:])


def generate_client_secret() -> str:
    return generate(CLIENT_SECRET_PREFIX)


def generate_access_token(request=None) -> str:
    """ACCESS_TOKEN_GENERATOR: the toolkit calls it with the oauthlib request."""
    return generate(ACCESS_TOKEN_PREFIX)


def refused_without_hashing(secret: str) -> bool:
    """A presented client secret that claims the `ipcs_` format but breaks it: no hash can match it.

    Secrets issued before the format never start with `ipcs_` (the toolkit's alphabet has no `_`).
    """
    return secret.startswith(CLIENT_SECRET_PREFIX) and not is_well_formed(secret, CLIENT_SECRET_PREFIX)
