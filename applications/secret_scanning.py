"""GitHub secret scanning's partner format (contract §12): `POST /secret-scanning/github`.

GitHub posts a JSON array of `{"token", "type", "url", "source"}`, signed (ECDSA P-256, SHA-256, DER, base64) with
one of the keys it publishes at SECRET_SCANNING_KEYS_URL; each live credential reported is revoked (leaks.py) and
the answer labels each entry, in order. Nothing but the signature authenticates the caller, so every refusal
before it is checked says the same thing.
"""

import base64
import binascii
import hashlib
import logging
import time
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from django.conf import settings
from django.core.cache import cache
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_variables
from redis.exceptions import RedisError

from applications import strictjson
from applications.leaks import Revoked, mail_revoked, revoke_reported
from applications.oauth.reads import token_checksum
from applications.remote import FetchError, fetch_json
from portal.actors import Actor, client_address
from portal.origin import public_origin

logger = logging.getLogger(__name__)

REPORTER = "GitHub secret scanning"
MAX_BODY_BYTES = 1024 * 1024
MAX_ENTRIES = 1000
KEYS_KEPT_SECONDS = 3600
REFRESH_AFTER_SECONDS = 3000
# GitHub's unauthenticated API allows 60 requests an hour: an unknown identifier refetches at most once a minute.
REFETCH_SECONDS = 60


class KeysUnavailable(Exception):
    """No keys are kept and none could be fetched: nothing can be verified now."""


def _cache_key(what: str) -> str:
    # Per URL: keys fetched from an earlier setting are never taken for the current one's.
    return f"secret-scanning:{hashlib.sha256(settings.SECRET_SCANNING_KEYS_URL.encode()).hexdigest()[:16]}:{what}"


def public_key(identifier: str) -> str | None:
    """The PEM of the published key `identifier`, None when none has it; KeysUnavailable when no keys can be had.

    The keys are kept at most an hour in the shared cache, for every worker and server, and fetched anew once they
    are 50 minutes old, while they still serve (a report rarely finds none kept). An identifier not among them
    fetches them too. Every fetch is the only one for a minute across all servers, so a flood of made-up
    identifiers costs the publisher one request a minute.
    """
    try:
        kept = cache.get(_cache_key("keys"))
        keys = kept["keys"] if kept else None
        due = kept is None or identifier not in keys or time.time() - kept["fetched"] > REFRESH_AFTER_SECONDS
        if due and cache.add(_cache_key("fetching"), True, REFETCH_SECONDS):
            try:
                keys = published_keys(settings.SECRET_SCANNING_KEYS_URL)
            except FetchError as error:
                logger.warning("Secret scanning keys not fetched: %s", error)
            else:
                cache.set(_cache_key("keys"), {"keys": keys, "fetched": time.time()}, KEYS_KEPT_SECONDS)
    except RedisError as error:
        logger.warning("Secret scanning keys unavailable, the cache is failing: %s", type(error).__name__)
        raise KeysUnavailable()
    if keys is None:
        raise KeysUnavailable()
    return keys.get(identifier)


def published_keys(url: str) -> dict[str, str]:
    """{key_identifier: PEM} of the EC P-256 keys in the document at `url`; FetchError when it is no such document."""
    document = fetch_json(url)
    listed = document.get("public_keys") if isinstance(document, dict) else None
    if not isinstance(listed, list):
        raise FetchError(f"{url} did not answer a list of public_keys.")
    keys = {}
    for entry in listed:
        identifier, pem = (entry.get("key_identifier"), entry.get("key")) if isinstance(entry, dict) else (None, None)
        if isinstance(identifier, str) and isinstance(pem, str) and _p256_key(pem) is not None:
            keys[identifier] = pem
    return keys


def _p256_key(pem: str) -> ec.EllipticCurvePublicKey | None:
    try:
        key = load_pem_public_key(pem.encode())
    except (ValueError, TypeError, UnicodeEncodeError):
        return None
    return key if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1) else None


def signed_by_github(body: bytes, identifier: str | None, signature: str | None) -> bool:
    """Whether `signature` (base64 of a DER ECDSA P-256 SHA-256 signature) signs the raw `body` with `identifier`."""
    if not identifier or not signature:
        return False
    try:
        der = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        return False
    pem = public_key(identifier)
    key = _p256_key(pem) if pem is not None else None
    if key is None:
        return False
    try:
        key.verify(der, body, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


class InvalidReport(Exception):
    pass


@dataclass(frozen=True)
class Entry:
    token: str
    type: str
    url: str


def parse_report(body: bytes) -> list[Entry]:
    """The report's entries, in order; InvalidReport, naming the problem, for anything but GitHub's format."""
    try:
        report = strictjson.loads(body.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise InvalidReport("The body is not JSON (UTF-8, each key once).")
    if not isinstance(report, list):
        raise InvalidReport("The body is not a JSON array.")
    if len(report) > MAX_ENTRIES:
        raise InvalidReport(f"A report holds at most {MAX_ENTRIES} entries.")
    return [_entry(number, entry) for number, entry in enumerate(report, start=1)]


def _no_constant(name: str):
    raise ValueError(f"{name} is no JSON value")


def _entry(number: int, entry) -> Entry:
    if not isinstance(entry, dict):
        raise InvalidReport(f"Entry {number} is not an object.")
    # GitHub says url may be empty (taken as absent or null too); source is read for its shape only.
    fields = {name: entry.get(name) for name in ("token", "type")}
    fields.update({name: "" if entry.get(name) is None else entry[name] for name in ("url", "source")})
    for name, value in fields.items():
        if not isinstance(value, str):
            raise InvalidReport(f"Entry {number}: {name} is not a string.")
        # A lone surrogate (JSON can spell one) or a NUL fits no database text column, nor any token of ours.
        if "\x00" in value or not _is_unicode(value):
            raise InvalidReport(f"Entry {number}: {name} is not valid text.")
    return Entry(token=fields["token"], type=fields["type"], url=fields["url"])


def _is_unicode(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@sensitive_variables()
def label_entries(entries: list[Entry], *, actor: Actor) -> tuple[list[dict], list[Revoked]]:
    """Revoke each live credential reported; GitHub's answer for each entry, in order, and what was revoked."""
    answers, revoked = [], []
    for entry in entries:
        # One transaction an entry: what is revoked stays revoked whatever happens to the entries after it.
        found = revoke_reported(token=entry.token, url=entry.url, actor=actor)
        if found is not None:
            revoked.append(found)
        label = "true_positive" if found is not None else "false_positive"
        answers.append({"token_hash": token_checksum(entry.token), "token_type": entry.type, "label": label})
    return answers, revoked


def _refused(status: int, error: str, description: str) -> JsonResponse:
    return JsonResponse({"error": error, "error_description": description}, status=status)


@csrf_exempt
@never_cache
@sensitive_variables()
def github_view(request):
    """POST /secret-scanning/github: GitHub's signed report of credentials found in public."""
    if request.method != "POST":
        response = _refused(405, "method_not_allowed", "Send the report with POST.")
        response["Allow"] = "POST"
        return response
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    # Before the body is read: a report is refused by its declared size alone.
    if declared > MAX_BODY_BYTES or len(request.body) > MAX_BODY_BYTES:
        return _refused(413, "report_too_large", f"A report is at most {MAX_BODY_BYTES} bytes.")
    try:
        signed = signed_by_github(
            request.body,
            request.headers.get("Github-Public-Key-Identifier"),
            request.headers.get("Github-Public-Key-Signature"),
        )
    except KeysUnavailable:
        response = _refused(503, "temporarily_unavailable", "The keys that sign reports cannot be had now; retry.")
        response["Retry-After"] = str(REFETCH_SECONDS)
        return response
    if not signed:
        # One answer for a missing header, a malformed or wrong signature and an unknown key: nothing to probe.
        return _refused(401, "invalid_signature", "The report's signature could not be verified.")
    try:
        entries = parse_report(request.body)
    except InvalidReport as error:
        return _refused(400, "invalid_report", str(error))

    answers, revoked = label_entries(entries, actor=Actor.server(REPORTER, client_address(request)))
    logger.info("%s reported %d credentials, %d of them live and now revoked", REPORTER, len(entries), len(revoked))
    mail_revoked(revoked, origin=public_origin(request), reporter=REPORTER)
    return JsonResponse(answers, safe=False)
