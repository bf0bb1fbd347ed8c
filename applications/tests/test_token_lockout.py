import pytest

from applications.tests.oauth_helpers import basic_auth, request_token


@pytest.fixture(autouse=True)
def small_limits(settings):
    settings.FAILURE_LIMITS = {**settings.FAILURE_LIMITS, "TOKEN_PER_CLIENT_ADDRESS": (3, 60), "TOKEN_PER_ADDRESS": (6, 60)}


@pytest.fixture
def frozen_time(monkeypatch):
    """A clock the test moves by hand; the windows follow it."""
    now = [1_800_000_000.0]
    monkeypatch.setattr("portal.throttle.clock", lambda: now[0])
    return now


def test_the_limit_trips_at_the_configured_count_and_then_refuses_even_the_right_secret(client, make_application, frozen_time):
    application, secret = make_application()

    for _ in range(3):
        assert request_token(client, application, "wrong").status_code == 401
    response = request_token(client, application, secret)

    assert response.status_code == 429
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"] == "too_many_attempts"
    assert 0 < int(response["Retry-After"]) <= 61


def test_the_lockout_ends_with_the_window(client, make_application, frozen_time):
    application, secret = make_application()
    for _ in range(3):
        request_token(client, application, "wrong")
    wait = int(request_token(client, application, secret)["Retry-After"])

    frozen_time[0] += wait

    assert request_token(client, application, secret).status_code == 200


def test_failures_below_the_limit_do_not_lock_out(client, make_application, frozen_time):
    application, secret = make_application()

    for _ in range(2):
        request_token(client, application, "wrong")

    assert request_token(client, application, secret).status_code == 200


def test_another_client_is_unaffected(client, make_application, frozen_time):
    attacked, _ = make_application(name="Attacked")
    other, other_secret = make_application(name="Other")
    for _ in range(3):
        request_token(client, attacked, "wrong")

    assert request_token(client, other, other_secret).status_code == 200


def test_one_address_guessing_many_client_ids_is_limited(client, make_application, frozen_time):
    application, secret = make_application()

    for n in range(6):
        response = client.post(
            "/oauth/token",
            f"grant_type=client_credentials&client_id=guess-{n}&client_secret=x",
            content_type="application/x-www-form-urlencoded",
        )
        assert response.status_code == 401

    assert request_token(client, application, secret).status_code == 429
    from_elsewhere = client.post(
        "/oauth/token",
        "grant_type=client_credentials",
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=basic_auth(application.client_id, secret),
        REMOTE_ADDR="192.0.2.44",
    )
    assert from_elsewhere.status_code == 200
