"""Contract §8: what the portal answers while the database or the cache is away.

The cache cases run against a real redis-server (up, then stopped); the database cases make
every query fail the way a lost PostgreSQL connection does. tests/faults/ restarts a real
PostgreSQL under load.
"""

import logging

from applications.tests.oauth_helpers import request_token
from ops.tests.helpers import database_down
from portal.tests.factories import PASSWORD
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
    assert warnings and "Brute-force counters unavailable, limits skipped" in warnings[0].getMessage()


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
    assert any("Brute-force counters unavailable, limits skipped" in r.getMessage() for r in caplog.records)


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
