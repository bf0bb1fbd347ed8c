"""JSON documents fetched from other servers, within fixed limits: GitHub's secret scanning keys (contract §12),
and the OpenID discovery documents and key sets of federated issuers (§10).

Each fetch waits at most TIMEOUT_SECONDS for any one step, gives up once TIMEOUT_SECONDS have passed while the
body is read, reads at most MAX_BYTES and follows no redirect. `check_peer` is called with the address actually
connected to, before anything is sent: where it raises, nothing reaches that address (an address rule goes there).
"""

import json
import time
from collections.abc import Callable

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

TIMEOUT_SECONDS = 3
MAX_BYTES = 64 * 1024


class FetchError(Exception):
    """The document could not be had: the message says why, and names the URL tried."""


def fetch_json(url: str, *, check_peer: Callable[[str], None] | None = None):
    """The JSON document at `url` (a 200 answer); raises FetchError for anything else."""
    try:
        return json.loads(_fetch(url, check_peer).decode("utf-8"))
    except FetchError:
        raise
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise FetchError(f"{url} did not answer a JSON document.")


def _fetch(url: str, check_peer) -> bytes:
    deadline = time.monotonic() + TIMEOUT_SECONDS
    with requests.Session() as session:
        if check_peer is not None:
            # A proxy from the environment would be the address checked, not the server's.
            session.trust_env = False
            adapter = _PeerCheckingAdapter(check_peer)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
        try:
            # identity: the size cap counts the bytes that arrive, and no compressed body can grow past it.
            headers = {"Accept": "application/json", "Accept-Encoding": "identity"}
            with session.get(url, headers=headers, timeout=TIMEOUT_SECONDS, allow_redirects=False, stream=True) as got:
                if got.status_code != 200:
                    raise FetchError(f"{url} answered {got.status_code}.")
                if got.headers.get("Content-Encoding", "identity").lower() != "identity":
                    raise FetchError(f"{url} answered with a compressed body.")
                return _read_body(url, got, deadline)
        except requests.RequestException as error:
            raise FetchError(f"{url} could not be read: {type(error).__name__}.")


def _read_body(url: str, response, deadline: float) -> bytes:
    try:
        declared = int(response.headers.get("Content-Length", 0))
    except ValueError:
        declared = 0
    if declared > MAX_BYTES:
        raise FetchError(f"{url} answered more than {MAX_BYTES} bytes.")
    raw = response.raw
    chunks, size = [], 0
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise FetchError(f"{url} took more than {TIMEOUT_SECONDS} seconds.")
        sock = getattr(raw.connection, "sock", None)
        if sock is not None:
            sock.settimeout(remaining)  # each read waits only for what is left of the whole fetch's time
        # read1: whatever one read brings, so a body sent a byte at a time cannot hold a read past the deadline.
        chunk = raw.read1(MAX_BYTES + 1 - size, decode_content=False)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_BYTES:
            raise FetchError(f"{url} answered more than {MAX_BYTES} bytes.")


class _PeerCheckingAdapter(HTTPAdapter):
    """Connections that hand the connected address to `check_peer` before any byte of the request is sent."""

    def __init__(self, check_peer: Callable[[str], None]):
        self.check_peer = check_peer
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        check_peer = self.check_peer

        def checked(connection_class):
            def _new_conn(self):
                sock = connection_class._new_conn(self)
                try:
                    check_peer(sock.getpeername()[0])
                except BaseException:
                    sock.close()
                    raise
                return sock

            return type(f"Checked{connection_class.__name__}", (connection_class,), {"_new_conn": _new_conn})

        self.poolmanager.pool_classes_by_scheme = {
            "http": type(
                "CheckedHTTPConnectionPool", (HTTPConnectionPool,), {"ConnectionCls": checked(HTTPConnection)}
            ),
            "https": type(
                "CheckedHTTPSConnectionPool", (HTTPSConnectionPool,), {"ConnectionCls": checked(HTTPSConnection)}
            ),
        }
