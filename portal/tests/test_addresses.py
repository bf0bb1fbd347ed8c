"""Addresses and networks as rules read them: one spelling each, strict ranges, and the edges of a range."""

import pytest

from portal import addresses
from portal.addresses import parse_address, parse_network, spell, within


@pytest.mark.parametrize(
    ("text", "spelled"),
    [
        ("198.51.100.7", "198.51.100.7"),
        ("198.51.100.7/32", "198.51.100.7"),
        ("198.51.100.0/24", "198.51.100.0/24"),
        ("0.0.0.0/0", "0.0.0.0/0"),
        ("2001:DB8:0:0::/48", "2001:db8::/48"),
        ("2001:db8::7/128", "2001:db8::7"),
        ("::/0", "::/0"),
        ("198.51.100.0/255.255.255.0", "198.51.100.0/24"),
        # An IPv4-mapped range is the IPv4 range: addresses are compared in their IPv4 form.
        ("::ffff:198.51.100.0/120", "198.51.100.0/24"),
        ("::ffff:198.51.100.7", "198.51.100.7"),
    ],
)
def test_a_network_is_spelled_one_way(text, spelled):
    assert spell(parse_network(text)) == spelled


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("example.com", "“example.com” is not an IP address or CIDR range."),
        ("198.51.100.0/33", "“198.51.100.0/33” is not an IP address or CIDR range."),
        ("198.51.100.256", "“198.51.100.256” is not an IP address or CIDR range."),
        ("010.0.0.1", "“010.0.0.1” is not an IP address or CIDR range."),
        (" 198.51.100.7", "“ 198.51.100.7” is not an IP address or CIDR range."),
        (
            "198.51.100.7/24",
            "“198.51.100.7/24” has bits set after its prefix length: write 198.51.100.0/24 for the range.",
        ),
        ("fe80::1%eth0", "“fe80::1%eth0” names an interface (%…): give the address or range without it."),
        ("", "“” is not an IP address or CIDR range."),
    ],
)
def test_anything_else_is_refused_by_name(text, message):
    with pytest.raises(ValueError) as refused:
        parse_network(text)

    assert str(refused.value) == message


@pytest.mark.parametrize(
    ("address", "entries", "inside"),
    [
        # The first and last address of a range, and their neighbours outside it.
        ("198.51.100.0", ["198.51.100.0/24"], True),
        ("198.51.100.255", ["198.51.100.0/24"], True),
        ("198.51.99.255", ["198.51.100.0/24"], False),
        ("198.51.101.0", ["198.51.100.0/24"], False),
        # A single address (/32, /128) is exactly itself.
        ("198.51.100.7", ["198.51.100.7"], True),
        ("198.51.100.8", ["198.51.100.7"], False),
        ("2001:db8::7", ["2001:db8::7"], True),
        ("2001:db8::8", ["2001:db8::7"], False),
        ("2001:db8:42::", ["2001:db8:42::/48"], True),
        ("2001:db8:42:ffff:ffff:ffff:ffff:ffff", ["2001:db8:42::/48"], True),
        ("2001:db8:43::", ["2001:db8:42::/48"], False),
        # An IPv4 peer seen through a dual-stack socket matches the IPv4 rule.
        ("::ffff:198.51.100.7", ["198.51.100.0/24"], True),
        # Families never match each other.
        ("198.51.100.7", ["::/0"], False),
        ("2001:db8::7", ["0.0.0.0/0"], False),
        # Several entries: any one will do.
        ("2001:db8::7", ["198.51.100.0/24", "2001:db8::/32"], True),
        # No address, or one that is none, lies in nothing.
        (None, ["0.0.0.0/0"], False),
        ("", ["0.0.0.0/0"], False),
        ("unknown", ["0.0.0.0/0"], False),
    ],
)
def test_within_holds_at_the_edges_of_a_range(address, entries, inside):
    assert within(address, entries) is inside


def test_each_list_is_parsed_once_however_often_it_is_checked():
    entries = ["192.0.2.0/24", "2001:db8:77::/48"]
    before = addresses._ranges.cache_info()

    for _ in range(100):
        within("192.0.2.9", entries)

    after = addresses._ranges.cache_info()
    assert after.misses - before.misses <= 1
    assert after.hits - before.hits >= 99


def test_an_entry_stored_by_hand_that_is_no_network_matches_nothing():
    assert within("192.0.2.9", ["bogus"]) is False
    assert within("192.0.2.9", ["bogus", "192.0.2.0/24"]) is True


@pytest.mark.parametrize(
    ("text", "expected"),
    [("::ffff:192.0.2.1", "192.0.2.1"), ("fe80::1%eth0", "fe80::1"), ("2001:0DB8::1", "2001:db8::1"), ("x", None)],
)
def test_an_address_is_read_in_one_form(text, expected):
    address = parse_address(text)
    assert (str(address) if address else None) == expected
