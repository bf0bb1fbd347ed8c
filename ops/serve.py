"""The portal's server: `python -m ops.serve`, what `make run` and a production deployment start.

Granian serves `config.wsgi`: its Rust front parses requests asynchronously and hands only
complete ones to the WSGI threads, so clients that send their headers slowly, or sit idle
on a connection, hold no worker (contract §8; gunicorn's sync and gthread workers stall on
them). The access log is written by the portal itself (ops/requestlog.py), with paths
and never query strings; the server's own one stays off.

    python -m ops.serve [--host 127.0.0.1] [--port 8000] [--workers N] [--threads T]

SIGTERM (or Ctrl-C): the workers stop accepting, finish the requests they have begun and
exit; any worker still busy after --graceful-timeout seconds is killed. A worker that
dies is replaced at once. Metrics from every worker process are gathered in
PROMETHEUS_MULTIPROC_DIR (a fresh temporary directory unless set; emptied at start).

A body sent with `Transfer-Encoding: chunked` reaches the application without a
Content-Length; `ChunkedBodies` (around config.wsgi's application) reads it, within
Django's upload limit, and hands it on with its length.
"""

import argparse
import io
import os
import shutil
import tempfile
from pathlib import Path

from django.conf import global_settings, settings

# Before Django or prometheus_client loads in any worker: they read it at import.
METRICS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m ops.serve", description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument(
        "--workers",
        type=int,
        default=int(os.environ.get("WORKERS", 0)) or os.cpu_count() or 2,
        help="worker processes (default: one per core)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=int(os.environ.get("THREADS", 2)),
        help="WSGI threads per worker: requests run at once in each (default 2)",
    )
    parser.add_argument(
        "--backlog",
        type=int,
        default=2048,
        help="connections the kernel queues before the server accepts them",
    )
    parser.add_argument(
        "--graceful-timeout",
        type=int,
        default=20,
        help="seconds SIGTERM waits for requests in flight before it kills their workers (default 20)",
    )
    parser.add_argument(
        "--header-timeout",
        type=int,
        default=10,
        help="seconds a client has to send its request headers before the connection is closed (default 10)",
    )
    parser.add_argument("--log-level", default=os.environ.get("SERVER_LOG_LEVEL", "info"), help="the server's own log")
    return parser.parse_args(argv)


def prepare_metrics_dir() -> Path:
    """An empty directory for the workers' metric files: a restart must not add to old totals."""
    given = os.environ.get(METRICS_DIR_VARIABLE)
    if given:
        path = Path(given)
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):
            stale.unlink()
    else:
        path = Path(tempfile.mkdtemp(prefix="portal-metrics-"))
        os.environ[METRICS_DIR_VARIABLE] = str(path)
    return path


def server_log_config() -> dict | None:
    """The server's own records (start, workers, shutdown) in the portal's format when LOG_FORMAT=json."""
    if os.environ.get("LOG_FORMAT", "text") != "json":
        return None
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"generic": {"()": "ops.logging.JsonFormatter"}},
        "handlers": {
            "console": {"formatter": "generic", "class": "logging.StreamHandler", "stream": "ext://sys.stderr"}
        },
        "loggers": {"_granian": {"handlers": ["console"], "level": "INFO", "propagate": False}},
    }


# What a WSGI server sets for the request itself (PEP 3333's CGI variables); HTTP_* and wsgi.* come with it.
REQUEST_VARIABLES = frozenset(
    {
        "REQUEST_METHOD",
        "SCRIPT_NAME",
        "PATH_INFO",
        "QUERY_STRING",
        "CONTENT_TYPE",
        "CONTENT_LENGTH",
        "SERVER_NAME",
        "SERVER_PORT",
        "SERVER_PROTOCOL",
        "SERVER_SOFTWARE",
        "GATEWAY_INTERFACE",
        "REMOTE_ADDR",
        "REMOTE_PORT",
        "HTTPS",
    }
)


class ProcessEnvironmentLeftOut:
    """WSGI middleware: a request's environ holds the request, not the server's process environment.

    granian hands every request a copy of the process environment with the request's variables on top, so
    DATABASE_URL, EMAIL_URL and every other setting would reach request.META, and from there Django's error
    reports. What the process set, and the request did not set again, is left out.
    """

    def __init__(self, application, environment=None):
        self.application = application
        environment = os.environ if environment is None else environment
        self.process = {name: value for name, value in environment.items() if name not in REQUEST_VARIABLES}

    def __call__(self, environ, start_response):
        for name, value in self.process.items():
            if environ.get(name) == value:
                del environ[name]
        return self.application(environ, start_response)


class ChunkedBodies:
    """WSGI middleware: a body without a Content-Length is read here and handed on with one.

    Django reads CONTENT_LENGTH only, and took such a body as empty. At most
    DATA_UPLOAD_MAX_MEMORY_SIZE + 1 bytes are read: a longer body reaches Django as one over
    its limits (400, as with a Content-Length that says so), never read to its end. Without
    `wsgi.input_terminated` the body's end cannot be found safely: 411.
    """

    def __init__(self, application):
        self.application = application

    def __call__(self, environ, start_response):
        if environ.get("HTTP_TRANSFER_ENCODING") and not environ.get("CONTENT_LENGTH"):
            if not environ.get("wsgi.input_terminated"):
                start_response("411 Length Required", [("Content-Type", "text/plain; charset=utf-8")])
                return [b"Send the request body with a Content-Length.\n"]
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or global_settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            body = read_at_most(environ["wsgi.input"], limit + 1)
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
        return self.application(environ, start_response)


def read_at_most(stream, limit: int) -> bytes:
    chunks, size = [], 0
    while size < limit:
        chunk = stream.read(min(64 * 1024, limit - size))  # may return less than asked, b"" at the end
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def main(argv=None) -> None:
    args = parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    owned = METRICS_DIR_VARIABLE not in os.environ
    metrics_dir = prepare_metrics_dir()

    from granian import Granian
    from granian.constants import HTTPModes, Interfaces
    from granian.http import HTTP1Settings

    server = Granian(
        "config.wsgi:application",
        address=args.host,
        port=args.port,
        interface=Interfaces.WSGI,
        http=HTTPModes.http1,
        websockets=False,
        workers=args.workers,
        blocking_threads=args.threads,
        backlog=args.backlog,
        http1_settings=HTTP1Settings(header_read_timeout=args.header_timeout * 1000, keep_alive=True),
        log_level=args.log_level,
        log_dictconfig=server_log_config(),
        log_access=False,
        respawn_failed_workers=True,
        respawn_interval=1.0,
        workers_kill_timeout=args.graceful_timeout,
    )
    try:
        server.serve()
    finally:
        if owned:
            shutil.rmtree(metrics_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
