"""Servers the tests start for themselves on free loopback ports."""

import shutil
import socket
import subprocess
import time

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_redis(*options: str) -> tuple[subprocess.Popen, str]:
    """A throwaway redis-server on a free loopback port, persisting nothing; returns (process, URL)."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("The Redis tests need redis-server (apt-get install redis-server), or TEST_REDIS_URL.")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", *options],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    import redis

    for _ in range(100):
        try:
            redis.Redis.from_url(url).ping()
            return process, url
        except redis.ConnectionError:
            time.sleep(0.05)
    process.kill()
    pytest.fail("redis-server did not start.")
