"""Contract §11's one client address: the peer's, or from X-Forwarded-For when the peer is a trusted proxy; and
every reader of the address (Django's META, the request log, Activity) sees that one."""

import logging

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from ops.clientaddress import PEER_ADDR, client_address
from portal.addresses import parse_address, parse_network

PROXIES = tuple(parse_network(entry) for entry in ("10.0.0.0/8", "192.0.2.10", "2001:db8:ffff::/48"))


def trusted(*entries: str) -> tuple:
    return tuple(parse_network(entry) for entry in entries)


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        # One trusted hop: the entry it appended is the client.
        ("10.0.0.1", "198.51.100.7", "198.51.100.7"),
        # Several trusted hops, each appending the one before it.
        ("10.0.0.1", "198.51.100.7, 192.0.2.10, 10.1.2.3", "198.51.100.7"),
        # What the client wrote itself, left of the first untrusted entry, is never read.
        ("10.0.0.1", "203.0.113.66, 198.51.100.7, 10.1.2.3", "198.51.100.7"),
        ("10.0.0.1", "not-an-address, 198.51.100.7", "198.51.100.7"),
        # Trusted entries the client wrote left of its own address are not skipped to.
        ("10.0.0.1", "10.9.9.9, 198.51.100.7, 10.1.2.3", "198.51.100.7"),
        # Spaces (and tabs) around entries, none at all, and empty list elements (RFC 7230 #rule).
        ("10.0.0.1", "  198.51.100.7\t,\t10.1.2.3  ", "198.51.100.7"),
        ("10.0.0.1", "203.0.113.66,198.51.100.7", "198.51.100.7"),
        ("10.0.0.1", ",, 198.51.100.7 ,, 10.1.2.3,,", "198.51.100.7"),
        # Two headers the server joined with a comma read as one list, in order.
        ("10.0.0.1", "203.0.113.66,198.51.100.7,10.1.2.3", "198.51.100.7"),
        # A malformed entry where the client should be: the peer's address.
        ("10.0.0.1", "198.51.100.7, unknown", "10.0.0.1"),
        ("10.0.0.1", "198.51.100.7, 10.1.2.3, 300.1.2.3", "10.0.0.1"),
        ("10.0.0.1", "198.51.100.7, 10.1.2.3, 010.1.2.3", "10.0.0.1"),
        ("10.0.0.1", '"198.51.100.7"', "10.0.0.1"),
        ("10.0.0.1", "for=198.51.100.7", "10.0.0.1"),
        ("10.0.0.1", "198.51.100.7/32", "10.0.0.1"),
        ("10.0.0.1", "x" * 10_000, "10.0.0.1"),
        ("10.0.0.1", ",".join(["junk"] * 2_000), "10.0.0.1"),
        # An empty header, or one of separators only: the peer.
        ("10.0.0.1", "", "10.0.0.1"),
        ("10.0.0.1", " , ,", "10.0.0.1"),
        # Every entry a trusted proxy: the farthest (leftmost) one.
        ("10.0.0.1", "10.1.1.1, 192.0.2.10, 10.2.2.2", "10.1.1.1"),
        # Ports, as some balancers write them.
        ("10.0.0.1", "198.51.100.7:51234", "198.51.100.7"),
        ("10.0.0.1", "[2001:db8::7]:443", "2001:db8::7"),
        # IPv6: bare, bracketed, uncompressed, with a zone, and trusted IPv6 hops.
        ("10.0.0.1", "2001:db8::7", "2001:db8::7"),
        ("10.0.0.1", "[2001:db8::7]", "2001:db8::7"),
        ("10.0.0.1", "2001:0db8:0000:0000:0000:0000:0000:0007", "2001:db8::7"),
        ("10.0.0.1", "fe80::7%eth0", "fe80::7"),
        ("10.0.0.1", "[fe80::7%25eth0]:8080", "fe80::7"),
        ("2001:db8:ffff::1", "2001:db8::7, 2001:db8:ffff::2", "2001:db8::7"),
        ("10.0.0.1", "[2001:db8::7", "10.0.0.1"),
        # An IPv4 client written the IPv6 way is the IPv4 client.
        ("10.0.0.1", "::ffff:198.51.100.7", "198.51.100.7"),
        # A trusted proxy seen through a dual-stack socket is still that proxy.
        ("::ffff:10.0.0.1", "198.51.100.7", "198.51.100.7"),
    ],
)
def test_from_a_trusted_proxy_the_first_untrusted_hop_from_the_right_is_the_client(peer, forwarded, expected):
    assert client_address(peer, forwarded, PROXIES) == expected


@pytest.mark.parametrize("forwarded", [None, "", "198.51.100.7", "198.51.100.7, 10.1.2.3", "garbage"])
def test_from_an_untrusted_peer_the_header_is_ignored(forwarded):
    assert client_address("203.0.113.9", forwarded, PROXIES) == "203.0.113.9"


def test_without_trusted_proxies_the_peer_is_the_client():
    assert client_address("10.0.0.1", "198.51.100.7", ()) == "10.0.0.1"


@pytest.mark.parametrize(
    ("peer", "expected"),
    [("::ffff:192.0.2.1", "192.0.2.1"), ("2001:0db8::0001", "2001:db8::1"), ("fe80::1%eth0", "fe80::1"), ("", "")],
)
def test_the_peer_is_written_in_one_form(peer, expected):
    assert client_address(peer, None, ()) == expected


def test_a_peer_that_is_no_address_is_no_address():
    assert client_address("unix:/run/portal.sock", "198.51.100.7", trusted("0.0.0.0/0")) == ""


# --- Every reader sees the one address ----------------------------------------------------------------------------


@pytest.fixture
def behind_a_proxy(settings):
    settings.TRUSTED_PROXIES = trusted("10.0.0.0/8")


def test_the_request_log_writes_the_client_and_the_proxy_it_came_through(client, db, behind_a_proxy, caplog):
    with caplog.at_level(logging.INFO, logger="portal.request"):
        client.get("/accounts/login/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.7, 10.0.0.2")
        client.get("/accounts/login/", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="198.51.100.7")

    through_proxy, direct = [r.request_fields for r in caplog.records if r.name == "portal.request"]
    assert (through_proxy["remote_addr"], through_proxy["peer_addr"]) == ("198.51.100.7", "10.0.0.1")
    assert direct["remote_addr"] == "203.0.113.9" and "peer_addr" not in direct


def test_django_sees_the_client_address_and_keeps_the_peers(rf, behind_a_proxy):
    from ops.clientaddress import ClientAddressMiddleware

    seen = {}

    def view(request):
        seen.update(remote=request.META["REMOTE_ADDR"], peer=request.META[PEER_ADDR])

    request = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.7")
    ClientAddressMiddleware(view)(request)

    assert seen == {"remote": "198.51.100.7", "peer": "10.0.0.1"}


@pytest.mark.parametrize(
    ("proxies", "peer", "secure"),
    [
        (("10.0.0.0/8",), "10.0.0.1", True),
        (("10.0.0.0/8",), "203.0.113.9", False),
        # Without TRUSTED_PROXIES nothing tells a proxy from a client: SECURE trusts the header, as it always has.
        ((), "203.0.113.9", True),
    ],
    ids=["trusted proxy", "untrusted peer", "no proxies set"],
)
def test_the_forwarded_scheme_is_heard_only_from_a_trusted_proxy(rf, settings, proxies, peer, secure):
    from ops.clientaddress import ClientAddressMiddleware

    settings.TRUSTED_PROXIES = trusted(*proxies)
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    seen = {}

    def view(request):
        seen["secure"] = request.is_secure()

    ClientAddressMiddleware(view)(rf.get("/", REMOTE_ADDR=peer, HTTP_X_FORWARDED_PROTO="https"))

    assert seen["secure"] is secure


def test_a_header_sent_as_peer_addr_cannot_set_the_record(client, db, behind_a_proxy, caplog):
    with caplog.at_level(logging.INFO, logger="portal.request"):
        client.get("/accounts/login/", REMOTE_ADDR="10.0.0.1", HTTP_PEER_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR="")

    (record,) = [r for r in caplog.records if r.name == "portal.request"]
    assert record.request_fields["remote_addr"] == "10.0.0.1" and "peer_addr" not in record.request_fields


def test_activity_records_the_forwarded_address(client, make_application, get_token, behind_a_proxy):
    from applications.selectors import audit_events_for_application

    caller, secret = make_application(name="Admin script", scopes=["update:applications"])
    token = get_token(caller, secret)

    response = client.patch(
        f"/api/applications/{caller.public_id}",
        {"description": "changed"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR="2001:db8::42, 10.0.0.3",
    )

    assert response.status_code == 200
    assert audit_events_for_application(caller).get(action="updated").address == "2001:db8::42"


@pytest.mark.parametrize("path", ["/oauth/token", "/oauth/revoke", "/oauth/introspect"])
def test_ten_kilobytes_of_junk_forwarded_is_answered_as_json(client, make_application, behind_a_proxy, path):
    from applications.tests.oauth_helpers import basic_auth

    application, secret = make_application()
    junk = "".join(chr(33 + n % 90) for n in range(10_240))

    response = client.post(
        path,
        "grant_type=client_credentials&token=x",
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=basic_auth(application.client_id, secret),
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR=junk,
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"


def test_ten_kilobytes_of_junk_forwarded_to_the_api_and_a_page_is_no_error(
    client, make_application, get_token, behind_a_proxy
):
    application, secret = make_application()
    token = get_token(application, secret)
    junk = {"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": "[::1" + "%,:]" * 2_560}

    api = client.get("/api/credentials", HTTP_AUTHORIZATION=f"Bearer {token}", **junk)
    page = client.get("/accounts/login/", **junk)

    assert (api.status_code, api["Content-Type"]) == (200, "application/json")
    assert page.status_code == 200


@given(st.text(max_size=400))
@hypothesis_settings(max_examples=300, deadline=None)
def test_whatever_is_forwarded_the_answer_is_the_peer_or_an_address_it_names(forwarded):
    answer = client_address("10.0.0.1", forwarded, PROXIES)

    assert answer == "10.0.0.1" or (parse_address(answer) is not None and str(parse_address(answer)) == answer)
