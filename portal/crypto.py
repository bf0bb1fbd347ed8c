"""Encryption of what the portal must keep and read back, such as TOTP secrets, with a key derived from SECRET_KEY.

HKDF over SECRET_KEY with a label of its own gives a key used for nothing else; Fernet (AES-128-CBC with an
HMAC-SHA256) authenticates what it decrypts. A key listed in SECRET_KEY_FALLBACKS still decrypts, so SECRET_KEY can
be rotated the way Django's signing allows; what was encrypted under a key no longer listed cannot be read.
"""

import base64

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

__all__ = ["InvalidToken", "decrypt", "encrypt"]


def _fernet(secret_key: str, purpose: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=f"portal {purpose}".encode()).derive(
        secret_key.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


def _box(purpose: str) -> MultiFernet:
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return MultiFernet([_fernet(key, purpose) for key in keys])


def encrypt(text: str, *, purpose: str) -> str:
    return _box(purpose).encrypt(text.encode()).decode()


def decrypt(token: str, *, purpose: str, ttl: int | None = None) -> str:
    """The text; InvalidToken when it was not encrypted for this purpose under a current key (or is older than ttl)."""
    return _box(purpose).decrypt(token.encode(), ttl=ttl).decode()
