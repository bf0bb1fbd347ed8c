"""IP addresses and networks, one spelling each: what client addresses, trusted proxies and allowed networks are.

The standard library's ipaddress reads them. An IPv4 address in IPv6 form (`::ffff:192.0.2.1`, how a dual-stack
socket shows an IPv4 peer) is that IPv4 address, and a zone (`fe80::1%eth0`) names an interface of one host, not
an address, so it is dropped: every rule and record sees one address however it was spelled.
"""

import ipaddress
from functools import lru_cache

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_address(text: str) -> Address | None:
    """The address `text` spells, in its one form; None when it spells none (surrounding spaces included)."""
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if address.version == 6:
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address.scope_id is not None:
            return ipaddress.IPv6Address(int(address))
    return address


def parse_network(text: str) -> Network:
    """The single address (its /32 or /128) or CIDR range `text` spells; ValueError naming `text` otherwise."""
    try:
        # strict: 10.0.0.1/8 is refused, not widened to 10.0.0.0/8 behind the writer's back.
        network = ipaddress.ip_network(text)
    except ValueError:
        try:
            meant = ipaddress.ip_network(text, strict=False)
        except ValueError:
            raise ValueError(f"“{text}” is not an IP address or CIDR range.") from None
        raise ValueError(f"“{text}” has bits set after its prefix length: write {meant} for the range.") from None
    if "%" in text:
        raise ValueError(f"“{text}” names an interface (%…): give the address or range without it.")
    if network.version == 6 and network.prefixlen >= 96 and network.network_address.ipv4_mapped is not None:
        # Addresses are compared in their IPv4 form; so is a range of IPv4-mapped addresses.
        network = ipaddress.IPv4Network((network.network_address.ipv4_mapped, network.prefixlen - 96))
    return network


def spell(network: Network) -> str:
    """The network as it is stored and shown: a single address without its prefix length, a range in CIDR."""
    return str(network.network_address) if network.prefixlen == network.max_prefixlen else str(network)


@lru_cache(maxsize=1024)
def _ranges(entries: tuple[str, ...]) -> tuple[tuple[int, int, int], ...]:
    """(IP version, first address, netmask) of each network, as integers: a check is then a mask and a compare."""
    ranges = []
    for entry in entries:
        try:
            network = parse_network(entry)
        except ValueError:
            continue  # stored entries are spelled by spell(); one that is not matches nothing
        ranges.append((network.version, int(network.network_address), int(network.netmask)))
    return tuple(ranges)


def within(address: str | None, entries: list[str] | tuple[str, ...]) -> bool:
    """Whether `address` lies in one of the networks `entries` spell; each list is parsed once per process.

    An address that cannot be read lies in none.
    """
    parsed = parse_address(address) if address else None
    if parsed is None:
        return False
    version, value = parsed.version, int(parsed)
    return any(version == v and value & mask == first for v, first, mask in _ranges(tuple(entries)))
