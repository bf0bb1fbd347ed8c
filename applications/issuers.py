"""The keys of the OpenID Connect issuers that federated credentials trust (contract §10): read from
`<issuer>/.well-known/openid-configuration` → `jwks_uri`, and kept in the shared cache.

Every fetch goes through applications.remote (3 s, 64 KiB, no redirect, no proxy), over https only, and its
connection is dropped before a byte is sent unless the address actually connected to is a public one: the check
runs on the connected socket, so a name that resolves to a public address when looked up and to a private one when
connected (DNS rebinding) gets nowhere. The origins in FEDERATION_INSECURE_ISSUERS are exempt from both rules, and
nothing else is.
"""

import hashlib
import ipaddress
import logging
import math
import re
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache
from redis.exceptions import RedisError
from urllib3.util import parse_url

from applications.keys import KeyRefused, parse_public_key
from applications.remote import FetchError, fetch_json

MAX_ISSUER_LENGTH = 255
MAX_URL_LENGTH = 2048
KEYS_KEPT_SECONDS = 15 * 60
# Fetched anew when this old, while they still serve: a grant rarely finds none kept.
REFRESH_AFTER_SECONDS = 14 * 60
# An unknown kid, a refresh or a failed fetch: one fetch per issuer a minute, across every worker and server.
REFETCH_SECONDS = 60
# More than any issuer publishes at once (GitHub, GitLab and Kubernetes publish one to four): a token without a kid
# is tried against each, so no issuer can make a verification cost a hundred signature checks.
MAX_KEYS = 20
DISCOVERY_PATH = "/.well-known/openid-configuration"

logger = logging.getLogger(__name__)


# --- Which URLs are fetched ------------------------------------------------------------------------------------------

# RFC 3986's characters. Anything else (a backslash, a space, a control character) is where URL parsers disagree:
# urllib3 would connect to a host other than the one the exemption below was decided on.
_URL_CHARACTERS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")


def _origin(url: str) -> tuple[str, str, int] | None:
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80)


def exempt(url: str) -> bool:
    """Whether `url`'s origin is one of FEDERATION_INSECURE_ISSUERS: fetched over http too, at any address."""
    origin = _origin(url)
    return origin is not None and origin in {_origin(listed) for listed in settings.FEDERATION_INSECURE_ISSUERS}


def url_problem(url: str) -> str | None:
    """Why §10's rules forbid fetching `url` (to be said after the URL), or None when they allow it."""
    if not _URL_CHARACTERS.fullmatch(url):
        return "holds characters no URL may hold (spaces, backslashes; write a non-ASCII host name in punycode)"
    parts = urlsplit(url)
    if "@" in parts.netloc:
        return "holds a user name or password"
    origin = _origin(url)
    if origin is None:
        return "is no http(s) URL with a host"
    try:
        seen = parse_url(url)
    except ValueError:
        return "is no URL the portal can read"
    if (seen.scheme, (seen.host or "").strip("[]"), seen.port or origin[2]) != origin:
        return "is read differently by different URL parsers"
    if origin[0] != "https" and not exempt(url):
        return "is not https"
    return None


def _judged(address):
    """The addresses whose kind decides about `address`: an IPv6 address that carries an IPv4 one (IPv4-mapped,
    NAT64's well-known prefix, 6to4) reaches that IPv4 address too."""
    if address.version == 6:
        if address.ipv4_mapped is not None:
            return [address.ipv4_mapped]
        if address in _NAT64:
            return [ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)]
        if address.sixtofour is not None:
            return [address, address.sixtofour]
    return [address]


_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def is_public(address: str) -> bool:
    """Whether the portal may send a request to `address`: a globally routed unicast address, never loopback,
    private, shared (CGNAT), link-local, site-local, multicast, reserved or unspecified."""
    try:
        parsed = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    return all(
        candidate.is_global
        and not (
            candidate.is_private
            or candidate.is_loopback
            or candidate.is_link_local
            or candidate.is_multicast
            or candidate.is_reserved
            or candidate.is_unspecified
            or getattr(candidate, "is_site_local", False)
        )
        for candidate in _judged(parsed)
    )


def _peer_rule(url: str):
    if exempt(url):
        return lambda address: None  # no address rule, and no proxy from the environment either

    def check(address: str) -> None:
        if not is_public(address):
            raise FetchError(
                f"{url} was not read: its host resolves to an address that is not public (loopback, private, "
                "link-local, multicast or reserved)."
            )

    return check


def fetch(url: str):
    """The JSON document at `url`, fetched under §10's rules; FetchError naming the URL otherwise."""
    if len(url) > MAX_URL_LENGTH:
        raise FetchError(f"{url[:100]}… was not read: it is longer than {MAX_URL_LENGTH} characters.")
    problem = url_problem(url)
    if problem:
        raise FetchError(f"{url} was not read: it {problem}.")
    return fetch_json(url, check_peer=_peer_rule(url))


# --- The issuer's URL and keys ---------------------------------------------------------------------------------------


def issuer_problem(issuer: str) -> str | None:
    """What is wrong with `issuer` as a federated credential's issuer, as a sentence; None when nothing is."""
    if len(issuer) > MAX_ISSUER_LENGTH:
        return f"Use at most {MAX_ISSUER_LENGTH} characters."
    if "?" in issuer or "#" in issuer:
        return "An issuer is a URL without query (?…) or fragment (#…)."
    problem = url_problem(issuer)
    if problem == "is not https":
        return "Use an https:// URL (the issuer's keys are fetched over https only)."
    return f"This is no issuer URL: it {problem}." if problem else None


def discovery_url(issuer: str) -> str:
    # OpenID Connect Discovery §4: the issuer without its trailing slash, then the well-known path.
    return issuer.rstrip("/") + DISCOVERY_PATH


@dataclass(frozen=True)
class IssuerKey:
    """One signing key an issuer publishes, as applications.oauth.assertions.verified_key takes keys."""

    kid: str | None
    alg: str  # the key's family: RS256 (also PS256), ES256 or EdDSA
    public_key: str  # PEM


def read_keys(issuer: str) -> list[dict]:
    """The issuer's signing keys, fetched now: its discovery document, then its `jwks_uri`. FetchError, naming the
    URL tried, when either cannot be read or is not what OpenID Connect Discovery says it is."""
    url = discovery_url(issuer)
    document = fetch(url)
    if not isinstance(document, dict):
        raise FetchError(f"{url} is not an OpenID Connect discovery document.")
    if document.get("issuer") != issuer:
        # Discovery §4.3: the document names its issuer exactly, as its tokens' iss will.
        named = str(document.get("issuer"))[:MAX_ISSUER_LENGTH]
        raise FetchError(f"{url} names the issuer “{named}”, not “{issuer}”: the tokens' iss will be that.")
    jwks_uri = document.get("jwks_uri")
    if not isinstance(jwks_uri, str) or not jwks_uri:
        raise FetchError(f"{url} names no jwks_uri.")
    key_set = fetch(jwks_uri)
    listed = key_set.get("keys") if isinstance(key_set, dict) else None
    if not isinstance(listed, list):
        raise FetchError(f"{jwks_uri} is not a JSON Web Key Set.")
    keys = []
    for jwk in listed:
        key = _signing_key(jwk)
        if key is not None:
            keys.append(key)
        if len(keys) == MAX_KEYS:
            break
    return keys


def _signing_key(jwk) -> dict | None:
    """A published JWK as kept: a public signing key of an accepted kind (applications.keys), else None."""
    if not isinstance(jwk, dict) or jwk.get("use", "sig") != "sig":
        return None
    kid = jwk.get("kid")
    if kid is not None and (not isinstance(kid, str) or len(kid) > 255):
        return None
    try:
        parsed = parse_public_key(jwk)
    except KeyRefused:
        return None
    return {"kid": kid, "alg": parsed.alg, "public_key": parsed.pem}


class KeysUnavailable(Exception):
    """No keys of the issuer are kept and none can be fetched now; `retry_after` seconds until one may be."""

    def __init__(self, reason: str, retry_after: int = REFETCH_SECONDS):
        super().__init__(reason)
        self.retry_after = retry_after


def _cache_key(issuer: str, what: str) -> str:
    return f"federation:{hashlib.sha256(issuer.encode('utf-8', 'surrogatepass')).hexdigest()[:32]}:{what}"


def keep(issuer: str, keys: list[dict]) -> None:
    """Keep keys just read for every worker and server; with the cache failing, they are fetched when needed."""
    try:
        cache.set(_cache_key(issuer, "keys"), {"keys": keys, "fetched": time.time()}, KEYS_KEPT_SECONDS)
    except RedisError as error:
        logger.warning("Keys of the issuer %s not kept, the cache is failing: %s", issuer, type(error).__name__)


def issuer_keys(issuer: str, *, kid: str | None = None) -> list[IssuerKey]:
    """The issuer's signing keys, from the shared cache or fetched; KeysUnavailable when none can be had.

    Kept at most 15 minutes, fetched anew after 14 while they still serve; a `kid` not among them fetches too. Each
    fetch is the only one for the issuer in a minute across every server, so a flood of made-up kids costs the
    issuer one request a minute, and a restart of every server costs it nothing.
    """
    try:
        kept = cache.get(_cache_key(issuer, "keys"))
        keys = kept["keys"] if kept else None
        unknown = keys is not None and kid is not None and all(key["kid"] != kid for key in keys)
        due = kept is None or unknown or time.time() - kept["fetched"] >= REFRESH_AFTER_SECONDS
        if due and cache.add(_cache_key(issuer, "fetching"), time.time(), REFETCH_SECONDS):
            try:
                keys = read_keys(issuer)
            except FetchError as error:
                logger.warning("Keys of the issuer %s not fetched: %s", issuer, error)
            else:
                keep(issuer, keys)
        if keys is None:
            raise KeysUnavailable(f"no keys of {issuer} kept, and none fetched", _wait(issuer))
    except RedisError as error:
        logger.warning("Issuer keys unavailable, the cache is failing: %s", type(error).__name__)
        raise KeysUnavailable("the cache is failing")
    return [IssuerKey(**key) for key in keys]


def _wait(issuer: str) -> int:
    """Seconds until the issuer's keys may be fetched again."""
    taken = cache.get(_cache_key(issuer, "fetching"))
    if taken is None:
        return 1
    return max(1, math.ceil(REFETCH_SECONDS - (time.time() - taken)))
