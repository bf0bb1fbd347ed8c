import time

import pytest

from applications import remote
from applications.remote import FetchError, fetch_json
from testing.documents import DocumentServer


@pytest.fixture
def server():
    with DocumentServer() as server:
        yield server


def test_a_published_document_is_read(server):
    url = server.publish("/keys", {"public_keys": []})

    assert fetch_json(url) == {"public_keys": []}


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirect_is_not_followed(server, status):
    target = server.publish("/elsewhere", {"public_keys": []})
    url = server.publish("/keys", status=status, headers={"Location": target})

    with pytest.raises(FetchError, match=f"answered {status}"):
        fetch_json(url)
    assert server.count("/elsewhere") == 0


@pytest.mark.parametrize("status", [201, 204, 404, 500])
def test_only_a_200_is_a_document(server, status):
    url = server.publish("/keys", {"public_keys": []}, status=status)

    with pytest.raises(FetchError, match=f"answered {status}"):
        fetch_json(url)


def test_a_body_declared_larger_than_the_cap_is_not_read(server):
    url = server.publish("/keys", b"{}", headers={"Content-Length": str(remote.MAX_BYTES + 1)})

    with pytest.raises(FetchError, match="more than 65536 bytes"):
        fetch_json(url)


def test_a_body_larger_than_the_cap_is_refused_even_without_a_length(server):
    big = b'{"padding": "' + b"x" * remote.MAX_BYTES + b'"}'
    url = server.publish("/keys", big, headers={"Content-Length": None, "Connection": "close"})

    with pytest.raises(FetchError, match="more than 65536 bytes"):
        fetch_json(url)


def test_a_body_at_the_cap_is_read(server):
    padding = remote.MAX_BYTES - len(b'{"p": ""}')
    url = server.publish("/keys", b'{"p": "' + b"x" * padding + b'"}')

    assert len(fetch_json(url)["p"]) == padding


def test_a_body_sent_slowly_is_given_up_at_the_deadline(server, monkeypatch):
    monkeypatch.setattr(remote, "TIMEOUT_SECONDS", 0.5)
    # Each piece arrives well within the per-read timeout; the whole never does within the deadline.
    url = server.publish("/keys", b'{"p": "' + b"x" * 100 + b'"}', pieces=1, pause=0.05)

    started = time.monotonic()
    with pytest.raises(FetchError, match="took more than"):
        fetch_json(url)
    assert time.monotonic() - started < 1.5


def test_a_compressed_body_is_refused(server):
    url = server.publish("/keys", b"\x1f\x8b", headers={"Content-Encoding": "gzip"})

    with pytest.raises(FetchError, match="compressed"):
        fetch_json(url)


@pytest.mark.parametrize("body", [b"<html></html>", b"\xff\xfe{}", b"[" * 100_00 + b"]" * 100_00])
def test_anything_but_json_is_refused(server, body):
    url = server.publish("/keys", body)

    with pytest.raises(FetchError, match="did not answer a JSON document"):
        fetch_json(url)


def test_an_unreachable_server_is_a_fetch_error(server):
    url = server.url("/keys")
    server.close()

    with pytest.raises(FetchError, match="could not be read"):
        fetch_json(url)


def test_the_peer_check_sees_the_connected_address_before_anything_is_sent(server):
    url = server.publish("/keys", {"public_keys": []})
    seen = []

    def refuse(address):
        seen.append(address)
        raise FetchError(f"{address} is not a public address.")

    with pytest.raises(FetchError, match="127.0.0.1 is not a public address"):
        fetch_json(url, check_peer=refuse)
    assert seen == ["127.0.0.1"]
    assert server.requests == []
    # A peer the check lets through is read as usual.
    assert fetch_json(url, check_peer=seen.append) == {"public_keys": []}
