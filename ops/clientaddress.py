"""The one client address of a request (contract §11), from its peer, TRUSTED_PROXIES and X-Forwarded-For.

The middleware writes it over REMOTE_ADDR before anything reads it, so Django, the toolkit, the request log, the
brute-force limits, network rules, Activity and "last used" all see the same address and none can read another;
the peer's own address stays in META[PEER_ADDR], for the record.
"""

import re
from functools import lru_cache

from django.conf import settings

from portal.addresses import Address, Network, parse_address

PEER_ADDR = "PEER_ADDR"

# How proxies write one hop: an address, an IPv4 address with a port, an IPv6 address in brackets with or without
# one (RFC 3986's form). An IPv6 address with a port but no brackets cannot be told from an address.
_BRACKETED = re.compile(r"\[([^\[\]]+)\](?::[0-9]{1,5})?")
_IPV4_WITH_PORT = re.compile(r"([0-9.]+):[0-9]{1,5}")


def _hop(text: str) -> Address | None:
    spelled = _BRACKETED.fullmatch(text) or _IPV4_WITH_PORT.fullmatch(text)
    return parse_address(spelled.group(1) if spelled else text)


# The peer is the socket's address, not text a client writes: one parse per address and process, kept (bounded), takes
# ipaddress (3-8 µs) off every request.
_peer_address = lru_cache(maxsize=4096)(parse_address)


def _trusted(address: Address, proxies: tuple[Network, ...]) -> bool:
    return any(address in network for network in proxies)


def client_address(peer: str, forwarded: str | None, proxies: tuple[Network, ...]) -> str:
    """The client's address: the peer's, unless the peer is a trusted proxy and X-Forwarded-For names another.

    From a trusted peer, the hops are read from the right (the nearest first), passing over trusted proxies; the
    first other one is the client, and a hop that is no address there means the peer is used. When every hop is
    a trusted proxy the farthest one (the leftmost) is the client: the request began inside the trusted networks.
    Repeated headers arrive joined by commas (the server joins them), and RFC 7230's empty list elements are
    skipped. "" when the peer itself is no IP address (a Unix socket, say).
    """
    peer_address = _peer_address(peer)
    if peer_address is None:
        return ""
    if not forwarded or not _trusted(peer_address, proxies):
        return str(peer_address)
    hops = [hop for hop in (part.strip(" \t") for part in forwarded.split(",")) if hop]
    for hop in reversed(hops):
        address = _hop(hop)
        if address is None:
            return str(peer_address)
        if not _trusted(address, proxies):
            return str(address)
    return str(_hop(hops[0])) if hops else str(peer_address)


class ClientAddressMiddleware:
    """Outermost: REMOTE_ADDR becomes the client's address for everything after it, the request log included."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        meta = request.META
        peer = meta.get("REMOTE_ADDR") or ""
        meta[PEER_ADDR] = peer
        proxies = settings.TRUSTED_PROXIES
        meta["REMOTE_ADDR"] = client_address(peer, meta.get("HTTP_X_FORWARDED_FOR"), proxies)
        if proxies and not _trusted_peer(peer, proxies):
            # The scheme a proxy forwards (SECURE's SECURE_PROXY_SSL_HEADER) is heard only from a trusted proxy too:
            # a client that reaches a server past the balancer cannot claim https for itself.
            meta.pop("HTTP_X_FORWARDED_PROTO", None)
        return self.get_response(request)


def _trusted_peer(peer: str, proxies: tuple[Network, ...]) -> bool:
    address = _peer_address(peer)
    return address is not None and _trusted(address, proxies)
