"""Contract §8: /healthz and /readyz, with the database and the cache up, failing and back.

The cache cases run against a real redis-server (up, then stopped); the database cases make
every query fail the way a lost PostgreSQL connection does.
"""

import pytest

from ops.tests.helpers import database_down


def test_healthz_answers_ok_without_touching_database_or_cache(client, cache_down):
    # No `db` fixture: any query raises. The cache is unreachable: any call to it raises.
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_healthz_answers_while_the_database_is_down(client):
    with database_down():
        response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_reports_every_check_ok(client, db, redis_cache):
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"] and "no-store" in response["Cache-Control"]
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "cache": "ok"}}


def test_readyz_stays_200_with_the_cache_failing(client, db, cache_down):
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "cache": "failing"}}


def test_readyz_is_503_with_the_database_failing(client, db, redis_cache):
    with database_down():
        response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json() == {"status": "failing", "checks": {"database": "failing", "cache": "ok"}}


def test_readyz_comes_back_with_the_cache(client, db, redis_cache):
    redis_cache.stop()
    try:
        assert client.get("/readyz").json()["checks"]["cache"] == "failing"
    finally:
        redis_cache.start()

    assert client.get("/readyz").json()["checks"] == {"database": "ok", "cache": "ok"}


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_probes_accept_only_get_and_head(client, db, method):
    assert getattr(client, method)("/healthz").status_code == 405
    assert getattr(client, method)("/readyz").status_code == 405
