"""When two names are one: equal after Unicode NFKC normalization and case folding ("ＡＬＩＣＥ", "alice")."""

import hashlib
import unicodedata


def name_key(name: str) -> str:
    # NFKC again after folding, as Unicode's NFKC_Casefold does: folding can undo a composition.
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())


def name_digest(name: str) -> str:
    """The SHA-256 of name_key: a fixed size for a unique index, whatever NFKC expands (one character can give 18)."""
    return hashlib.sha256(name_key(name).encode("utf-8", "surrogatepass")).hexdigest()
