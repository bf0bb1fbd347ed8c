"""Contract §8: what the portal answers while the database or the cache is away.

The cache cases run against a real redis-server (up, then stopped); the database cases make
every query fail the way a lost PostgreSQL connection does. tests/faults/ restarts a real
PostgreSQL under load.
"""

import logging
import re

import pytest

from applications.tests.oauth_helpers import request_token
from ops.tests.helpers import database_down
from portal.tests.factories import PASSWORD
from testing.throwaway import RedisServer
from throttle import limits

# --- Database down: 503 with Retry-After -------------------------------------------------------


def test_token_endpoint_answers_503_json_while_the_database_is_down(client, make_application):
    application, secret = make_application()

    with database_down():
        response = request_token(client, application, secret)

    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response["Retry-After"] == "5"
    assert response.json()["error"] == "temporarily_unavailable"


def test_api_answers_503_json_while_the_database_is_down(client, make_application):
    application, secret = make_application(scopes=["read:credentials"])
    token = request_token(client, application, secret).json()["access_token"]

    with database_down():
        response = client.get("/api/credentials", HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response["Retry-After"] == "5"
    assert "unavailable" in response.json()["detail"]


def test_portal_pages_answer_a_plain_503_page_while_the_database_is_down(client, admin_user):
    client.force_login(admin_user)

    with database_down():
        response = client.get("/integrations/applications/")

    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/html")
    assert response["Retry-After"] == "5"
    assert "Temporarily unavailable" in response.content.decode()


def test_the_sign_in_page_answers_503_while_the_database_is_down(client, admin_user):
    with database_down():
        response = client.post("/accounts/login/", {"username": admin_user.username, "password": PASSWORD})

    assert response.status_code == 503
    assert "Temporarily unavailable" in response.content.decode()


def test_requests_work_again_once_the_database_is_back(client, make_application):
    application, secret = make_application()
    with database_down():
        assert request_token(client, application, secret).status_code == 503

    assert request_token(client, application, secret).status_code == 200


# --- Cache down: brute-force checks skipped, with a warning ------------------------------------


def test_brute_force_counters_live_in_redis(client, make_application, redis_cache, settings):
    settings.FAILURE_LIMITS = {**settings.FAILURE_LIMITS, "TOKEN_PER_CLIENT_ADDRESS": (2, 60)}
    application, secret = make_application()

    for _ in range(2):
        assert request_token(client, application, "wrong").status_code == 401
    response = request_token(client, application, secret)

    assert response.status_code == 429
    assert response.json()["error"] == "too_many_attempts"
    assert any(key.startswith(b":1:failures:") for key in redis_cache_keys(redis_cache))


def redis_cache_keys(server) -> list[bytes]:
    import redis

    return redis.Redis.from_url(server.url).keys("*")


def test_grants_work_with_the_cache_down_and_a_warning_is_logged(client, make_application, cache_down, caplog):
    application, secret = make_application()

    with caplog.at_level(logging.WARNING, logger="throttle.limits"):
        first = request_token(client, application, secret)
        wrong = request_token(client, application, "wrong")
        second = request_token(client, application, secret)

    assert first.status_code == 200 and second.status_code == 200
    assert wrong.status_code == 401
    warnings = [r for r in caplog.records if r.name == "throttle.limits" and r.levelno == logging.WARNING]
    assert warnings and "brute-force limits are OFF" in warnings[0].getMessage()


def test_the_api_works_with_the_cache_down(client, make_application, cache_down):
    application, secret = make_application(scopes=["read:credentials"])
    token = request_token(client, application, secret).json()["access_token"]

    response = client.get("/api/credentials", HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.status_code == 200


def test_sign_in_works_with_the_cache_down(client, admin_user, cache_down, caplog):
    with caplog.at_level(logging.WARNING, logger="throttle.limits"):
        response = client.post("/accounts/login/", {"username": admin_user.username, "password": PASSWORD})

    assert response.status_code == 302
    assert "_auth_user_id" in client.session
    assert any("brute-force limits are OFF" in r.getMessage() for r in caplog.records)


def test_after_a_failure_the_cache_is_left_alone_for_a_pause_then_used_again(client, make_application, redis_cache):
    application, _ = make_application()
    redis_cache.stop()
    try:
        assert request_token(client, application, "wrong").status_code == 401
    finally:
        redis_cache.start()

    # Within the pause a failure is not counted, even though Redis is back.
    assert request_token(client, application, "wrong").status_code == 401
    assert redis_cache_keys(redis_cache) == []

    limits._pause.until = 0.0  # the pause is over
    assert request_token(client, application, "wrong").status_code == 401
    assert any(key.startswith(b":1:failures:") for key in redis_cache_keys(redis_cache))


# --- Redis full at maxmemory (noeviction): reads answer, every write is refused --------------------------------


def fill(server: RedisServer) -> None:
    """Give Redis a maxmemory just above what it holds, then write until it refuses (OOM), as a full one does."""
    import redis

    client = redis.Redis.from_url(server.url)
    client.config_set("maxmemory", client.info("memory")["used_memory"] + 256 * 1024)
    for number in range(1000):
        try:
            client.set(f"filler:{number}", b"x" * 16 * 1024)
        except redis.exceptions.OutOfMemoryError:
            # Full. Client buffers freed later could make room for one small write again: keep it well over.
            client.config_set("maxmemory", client.info("memory")["used_memory"] // 2)
            return
    raise AssertionError("Redis never refused a write")


def empty(server: RedisServer) -> None:
    import redis

    client = redis.Redis.from_url(server.url)
    client.flushall()
    client.config_set("maxmemory", 0)


@pytest.fixture
def full_redis(settings):
    server = RedisServer("--maxmemory-policy", "noeviction").start()
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": server.url,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    fill(server)
    yield server
    server.close()


def counter_failures(client, settings) -> float:
    settings.METRICS_TOKEN = "metrics-token-for-tests"
    text = client.get("/metrics", HTTP_AUTHORIZATION="Bearer metrics-token-for-tests").content.decode()
    return float(re.search(r"^portal_brute_force_counter_failures_total (\S+)$", text, re.MULTILINE).group(1))


def test_readyz_shows_a_full_redis_as_failing_before_any_counter_is_written(client, db, full_redis):
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "cache": "failing"}}


def test_failures_against_a_full_redis_are_401_counted_in_the_metric_and_say_the_limits_are_off(
    client, make_application, full_redis, settings, caplog
):
    settings.FAILURE_LIMITS = {**settings.FAILURE_LIMITS, "TOKEN_PER_CLIENT_ADDRESS": (2, 60)}
    application, secret = make_application()
    before = counter_failures(client, settings)

    with caplog.at_level(logging.WARNING, logger="throttle.limits"):
        wrong = [request_token(client, application, "wrong").status_code for _ in range(5)]
        right = request_token(client, application, secret)

    # Reads still answer, so the first failure is checked and its count refused; the limits are off from there.
    assert wrong == [401] * 5
    assert right.status_code == 200
    assert counter_failures(client, settings) - before == 1
    (warning,) = [r for r in caplog.records if r.name == "throttle.limits"]
    assert warning.levelno == logging.WARNING
    assert warning.getMessage() == (
        "Brute-force counters unavailable (OutOfMemoryError): a failed authentication was not counted, "
        "and the brute-force limits are OFF in this process for 2 s"
    )
    assert client.get("/readyz").json()["checks"]["cache"] == "failing"


def test_sign_in_against_a_full_redis_signs_in_and_warns(client, admin_user, full_redis, caplog):
    with caplog.at_level(logging.WARNING, logger="throttle.limits"):
        response = client.post("/accounts/login/", {"username": admin_user.username, "password": PASSWORD})

    assert response.status_code == 302
    assert any("brute-force limits are OFF" in r.getMessage() for r in caplog.records)


def test_readyz_says_failing_while_this_process_skips_the_limits_and_ok_once_redis_has_room_again(
    client, make_application, full_redis
):
    application, _ = make_application()
    assert request_token(client, application, "wrong").status_code == 401
    empty(full_redis)

    # Writes work again, but this process's last counter call failed a moment ago: its limits are still off.
    assert client.get("/readyz").json()["checks"]["cache"] == "failing"

    limits._pause.until = 0.0  # the pause is over
    assert client.get("/readyz").json()["checks"] == {"database": "ok", "cache": "ok"}
    assert request_token(client, application, "wrong").status_code == 401
    assert any(key.startswith(b":1:failures:") for key in redis_cache_keys(full_redis))
