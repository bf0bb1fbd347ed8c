"""A throwaway HTTP server on 127.0.0.1 that publishes the documents the portal fetches from other servers
(secret scanning keys; discovery documents and key sets), counts what is asked of it, and misbehaves on request; and
a TCP server that answers nothing."""

import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


@dataclass
class Document:
    status: int = 200
    body: bytes = b""
    headers: dict = field(default_factory=dict)
    # Sent this many bytes at a time with `pause` seconds between them: a server that trickles its answer.
    pieces: int = 0
    pause: float = 0.0


class DocumentServer:
    """`publish(path, document)` serves JSON at `url(path)`; `requests` lists the paths asked for, in order.

    `answer(path, handler)` answers every request for `path` (whatever its query) with `handler(request)`, a Document
    made for that request (`request.path`, `request.headers`).
    """

    def __init__(self):
        self.documents: dict[str, Document] = {}
        self.handlers: dict[str, Callable[[BaseHTTPRequestHandler], Document]] = {}
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests.append(self.path)
                handler = server.handlers.get(urlsplit(self.path).path)
                document = handler(self) if handler else server.documents.get(self.path)
                document = document or Document(404, b'{"message": "Not Found"}')
                self.send_response(document.status)
                headers = {"Content-Type": "application/json", "Content-Length": str(len(document.body))}
                for name, value in {**headers, **document.headers}.items():
                    if value is not None:
                        self.send_header(name, value)
                self.end_headers()
                if not document.pieces:
                    self.wfile.write(document.body)
                    return
                for start in range(0, len(document.body), document.pieces):
                    self.wfile.write(document.body[start : start + document.pieces])
                    self.wfile.flush()
                    time.sleep(document.pause)

            def log_message(self, format, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def publish(self, path: str, document=None, **options) -> str:
        """Serve `document` (JSON-encoded unless bytes, or `body=` with `status=`, `headers=`…) at `path`; its URL."""
        if document is not None:
            options["body"] = document if isinstance(document, bytes) else json.dumps(document).encode()
        self.documents[path] = Document(**options)
        return self.url(path)

    def answer(self, path: str, handler: Callable[[BaseHTTPRequestHandler], Document]) -> str:
        self.handlers[path] = handler
        return self.url(path)

    def count(self, path: str) -> int:
        return self.requests.count(path)

    def start(self) -> "DocumentServer":
        self.thread.start()
        return self

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> "DocumentServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()


class SilentServer:
    """A TCP server on 127.0.0.1 that accepts connections, keeps whatever bytes arrive and never answers: an issuer
    too slow to wait for, or the proof that a refused connection was sent nothing."""

    def __init__(self, host: str = "127.0.0.1"):
        self.sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        self.sock.bind((host, 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.received = b""
        self.accepted = threading.Event()
        self._open: list[socket.socket] = []
        self._closed = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while not self._closed.is_set():
            try:
                connection, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            self._open.append(connection)
            self.accepted.set()
            threading.Thread(target=self._read, args=(connection,), daemon=True).start()

    def _read(self, connection: socket.socket) -> None:
        while True:
            try:
                chunk = connection.recv(65536)
            except OSError:
                return
            if not chunk:
                return
            self.received += chunk

    def start(self) -> "SilentServer":
        self.thread.start()
        return self

    def close(self) -> None:
        self._closed.set()
        self.sock.close()
        for connection in self._open:
            connection.close()

    def __enter__(self) -> "SilentServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()
