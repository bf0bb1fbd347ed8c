"""A throwaway HTTP server on 127.0.0.1 that publishes the documents the portal fetches from other servers
(secret scanning keys; discovery documents and key sets), counts what is asked of it, and misbehaves on request."""

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Document:
    status: int = 200
    body: bytes = b""
    headers: dict = field(default_factory=dict)
    # Sent this many bytes at a time with `pause` seconds between them: a server that trickles its answer.
    pieces: int = 0
    pause: float = 0.0


class DocumentServer:
    """`publish(path, document)` serves JSON at `url(path)`; `requests` lists the paths asked for, in order."""

    def __init__(self):
        self.documents: dict[str, Document] = {}
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests.append(self.path)
                document = server.documents.get(self.path) or Document(404, b'{"message": "Not Found"}')
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
