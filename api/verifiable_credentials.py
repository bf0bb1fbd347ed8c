"""The W3C Verifiable Credentials data model checks a stored credential must pass."""

import math

from rest_framework.exceptions import ValidationError

# VC Data Model 2.0 and 1.1: the first @context item is one of these.
CREDENTIALS_CONTEXTS = ("https://www.w3.org/ns/credentials/v2", "https://www.w3.org/2018/credentials/v1")
CREDENTIAL_TYPE = "VerifiableCredential"
MAX_DEPTH = 32

REQUIRED = "This field is required."


def _storable_text(value: str) -> bool:
    # PostgreSQL's jsonb refuses NUL, and a lone surrogate cannot be encoded as UTF-8.
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _storage_problem(document) -> str | None:
    """Why the JSON document cannot be stored and served back as it is, or None."""
    stack = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            return f"Nest objects and arrays at most {MAX_DEPTH} levels deep."
        if isinstance(value, dict):
            if not all(_storable_text(key) for key in value):
                return "Keys must be valid Unicode text without NUL characters."
            stack.extend((child, depth + 1) for child in value.values())
        elif isinstance(value, list):
            stack.extend((child, depth + 1) for child in value)
        elif isinstance(value, str) and not _storable_text(value):
            return "Strings must be valid Unicode text without NUL characters."
        elif isinstance(value, float) and not math.isfinite(value):
            return "Numbers must be finite."
    return None


def _nonempty_string(value) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _context_error(context) -> str | None:
    if not isinstance(context, list) or not context or context[0] not in CREDENTIALS_CONTEXTS:
        return f"Must be an array whose first item is {' or '.join(CREDENTIALS_CONTEXTS)}."
    if not all(_nonempty_string(item) or isinstance(item, dict) for item in context):
        return "Every item must be a URL string or an object."
    return None


def _type_error(types) -> str | None:
    names = [types] if isinstance(types, str) else types
    if not isinstance(names, list) or not all(_nonempty_string(name) for name in names):
        return "Must be a string or an array of strings."
    if CREDENTIAL_TYPE not in names:
        return f"Must include {CREDENTIAL_TYPE}."
    return None


def _issuer_error(issuer) -> str | None:
    if _nonempty_string(issuer) or (isinstance(issuer, dict) and _nonempty_string(issuer.get("id"))):
        return None
    return "Must be a URL string or an object with an id."


def _subject_error(subject) -> str | None:
    if isinstance(subject, dict):
        return None
    if isinstance(subject, list) and subject and all(isinstance(item, dict) for item in subject):
        return None
    return "Must be an object or a non-empty array of objects."


_CHECKS = {
    "@context": _context_error,
    "type": _type_error,
    "issuer": _issuer_error,
    "credentialSubject": _subject_error,
}


def validate_verifiable_credential(document) -> None:
    """Raise a ValidationError naming every missing or malformed field of the credential."""
    if not isinstance(document, dict):
        raise ValidationError("Must be a JSON object.")
    problem = _storage_problem(document)
    if problem:
        raise ValidationError(problem)
    errors = {}
    for field, check in _CHECKS.items():
        error = REQUIRED if field not in document else check(document[field])
        if error:
            errors[field] = [error]
    if "id" in document and not _nonempty_string(document["id"]):
        errors["id"] = ["Must be a URL string."]
    if errors:
        raise ValidationError(errors)
