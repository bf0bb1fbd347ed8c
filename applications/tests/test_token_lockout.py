import base64
import json
from urllib.parse import urlencode

import pytest

from applications.models import AuditEvent
from applications.tests.oauth_helpers import FORM, basic_auth, request_token


@pytest.fixture(autouse=True)
def small_limits(settings, counter_store):
    # Every test here runs twice: counters in the database, and in Redis.
    settings.FAILURE_LIMITS = {
        **settings.FAILURE_LIMITS,
        "TOKEN_PER_CLIENT_ADDRESS": (3, 60),
        "TOKEN_PER_ADDRESS": (6, 60),
    }


def fail_to_the_limit(client, application):
    """Three wrong secrets from one address: the per-client limit `small_limits` sets is reached."""
    for _ in range(3):
        request_token(client, application, "wrong")


def test_the_limit_trips_at_the_configured_count_and_then_refuses_even_the_right_secret(
    client, make_application, frozen_time
):
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
    fail_to_the_limit(client, application)
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
    fail_to_the_limit(client, attacked)

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


# Issue 19, finding 4: behind a load balancer every client shares its address, so 50 failures from anyone locked
# every client out; with TRUSTED_PROXIES the limits count each client's forwarded address.
@pytest.mark.parametrize("path", ["/oauth/token", "/oauth/revoke", "/oauth/introspect"])
def test_behind_a_trusted_proxy_failures_lock_out_only_their_forwarded_address(
    client, make_application, settings, frozen_time, path
):
    from portal.addresses import parse_network

    settings.TRUSTED_PROXIES = (parse_network("10.0.0.0/8"),)
    victim, secret = make_application(name="Victim")
    bystander, bystander_secret = make_application(name="Bystander")

    def through_proxy(client_id, secret, address):
        return client.post(
            path,
            "grant_type=client_credentials&token=x",
            content_type=FORM,
            HTTP_AUTHORIZATION=basic_auth(client_id, secret),
            REMOTE_ADDR="10.0.0.1",
            HTTP_X_FORWARDED_FOR=f"{address}, 10.0.0.2",
        )

    for _ in range(3):  # the victim's client ID, to its limit, from one client
        assert through_proxy(victim.client_id, "wrong", "198.51.100.66").status_code == 401
    for n in range(6):  # and other client IDs from another, to that address's limit
        assert through_proxy(f"guess-{n}", "wrong", "203.0.113.66").status_code == 401

    assert through_proxy(victim.client_id, secret, "198.51.100.66").status_code == 429
    assert through_proxy(bystander.client_id, bystander_secret, "203.0.113.66").status_code == 429
    assert through_proxy(victim.client_id, secret, "198.51.100.7").status_code == 200
    assert through_proxy(bystander.client_id, bystander_secret, "198.51.100.7").status_code == 200


def post_token(client, body, authorization=None, content_type=FORM, address="127.0.0.1"):
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization is not None else {}
    return client.post("/oauth/token", body, content_type=content_type, REMOTE_ADDR=address, **headers)


def grant_body(**fields):
    return urlencode({"grant_type": "client_credentials", **fields})


def test_a_lockout_survives_two_thousand_failures_for_other_client_ids_from_many_addresses(
    client, make_application, settings, frozen_time
):
    settings.FAILURE_LIMITS = {**settings.FAILURE_LIMITS, "TOKEN_PER_ADDRESS": (50, 60)}
    application, secret = make_application()
    fail_to_the_limit(client, application)

    for n in range(2000):
        response = post_token(
            client, grant_body(client_id=f"flood-{n}", client_secret="x"), address=f"198.51.100.{n % 100}"
        )
        assert response.status_code == 401

    assert request_token(client, application, secret).status_code == 429


def test_the_window_lasts_its_full_length_and_later_failures_do_not_move_its_end(client, make_application, frozen_time):
    application, secret = make_application()
    start = frozen_time[0]
    for offset in (0, 20, 40):  # the third failure fills the limit 40 seconds into the 60-second window
        frozen_time[0] = start + offset
        request_token(client, application, "wrong")

    frozen_time[0] = start + 59.5
    locked = request_token(client, application, secret)
    frozen_time[0] = start + 60

    assert locked.status_code == 429
    assert locked["Retry-After"] == "1"
    assert request_token(client, application, secret).status_code == 200


def test_a_long_window_lasts_its_full_length(client, make_application, settings, frozen_time):
    settings.FAILURE_LIMITS = {**settings.FAILURE_LIMITS, "TOKEN_PER_CLIENT_ADDRESS": (3, 900)}
    application, secret = make_application()
    start = frozen_time[0]
    fail_to_the_limit(client, application)

    for offset in (301, 899):  # past the cache's default 300-second timeout, to the window's last second
        frozen_time[0] = start + offset
        response = request_token(client, application, secret)
        assert response.status_code == 429
        assert response["Retry-After"] == str(900 - offset)
    frozen_time[0] = start + 900
    assert request_token(client, application, secret).status_code == 200


def test_a_correct_secret_from_another_address_gets_its_token_during_a_lockout(client, make_application, frozen_time):
    application, secret = make_application()
    fail_to_the_limit(client, application)
    assert request_token(client, application, secret).status_code == 429

    elsewhere = post_token(client, grant_body(), basic_auth(application.client_id, secret), address="203.0.113.7")

    assert elsewhere.status_code == 200
    assert "access_token" in elsewhere.json()


def test_a_lockout_is_recorded_once_with_the_address(client, make_application, frozen_time):
    application, _ = make_application()

    for _ in range(5):
        request_token(client, application, "wrong")

    lockout = AuditEvent.objects.get(action=AuditEvent.Action.LOCKED_OUT)
    assert (lockout.application_id, lockout.address) == (application.pk, "127.0.0.1")


def test_successes_do_not_count(client, make_application, frozen_time):
    application, secret = make_application()

    for _ in range(10):
        assert request_token(client, application, secret).status_code == 200
    for _ in range(2):
        request_token(client, application, "wrong")

    assert request_token(client, application, secret).status_code == 200


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


# Spellings the toolkit's own lenient decoding accepted but a strict reading refuses.
UNREADABLE = {
    "junk characters": lambda cid, secret: (
        "Basic " + b64(f"{cid}:{secret}".encode())[:8] + "*!" + b64(f"{cid}:{secret}".encode())[8:]
    ),
    "no colon": lambda cid, secret: "Basic " + b64(f"{cid}{secret}".encode()),
    "not UTF-8": lambda cid, secret: "Basic " + b64(cid.encode() + b":\xff" + secret.encode()),
    "no padding": lambda cid, secret: "Basic " + b64(f"{cid}:{secret}x".encode()).rstrip("="),
    "percent-encoding of no UTF-8": lambda cid, secret: "Basic " + b64(f"{cid}:%ff{secret}".encode()),
    "another scheme": lambda cid, secret: "Digest " + b64(f"{cid}:{secret}".encode()),
}


@pytest.mark.parametrize("spelling", UNREADABLE)
def test_an_unreadable_basic_header_is_refused_before_authentication_even_with_the_right_secret(
    client, make_application, spelling
):
    application, secret = make_application()
    header = UNREADABLE[spelling](application.client_id, secret)

    response = post_token(client, grant_body(), header)

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response["WWW-Authenticate"] == 'Basic realm="oauth"'


@pytest.mark.parametrize("spelling", UNREADABLE)
def test_an_unreadable_basic_header_never_gets_a_token_during_a_lockout(
    client, make_application, spelling, frozen_time
):
    application, secret = make_application()
    fail_to_the_limit(client, application)

    response = post_token(client, grant_body(), UNREADABLE[spelling](application.client_id, secret))

    assert response.status_code in (401, 429)
    assert "access_token" not in response.json()


# Spellings RFC 7235 allows: read the same way for counting and for checking.
READABLE = {
    "two spaces": lambda cid, secret: "Basic  " + b64(f"{cid}:{secret}".encode()),
    "lowercase scheme": lambda cid, secret: "basic " + b64(f"{cid}:{secret}".encode()),
    "uppercase scheme": lambda cid, secret: "BASIC " + b64(f"{cid}:{secret}".encode()),
}


@pytest.mark.parametrize("spelling", READABLE)
def test_a_readable_basic_spelling_authenticates_and_its_failures_count(
    client, make_application, spelling, frozen_time
):
    application, secret = make_application()
    assert post_token(client, grant_body(), READABLE[spelling](application.client_id, secret)).status_code == 200

    for _ in range(3):
        assert post_token(client, grant_body(), READABLE[spelling](application.client_id, "wrong")).status_code == 401

    assert request_token(client, application, secret).status_code == 429


def test_form_encoded_basic_credentials_are_decoded(client, make_application):
    application, secret = make_application()
    header = "Basic " + b64(f"{application.client_id}:{secret}".replace("a", "%61").encode())

    assert post_token(client, grant_body(), header).status_code == 200


def test_a_body_secret_that_differs_from_the_basic_one_is_invalid_request(client, make_application, frozen_time):
    application, secret = make_application()

    response = post_token(client, grant_body(client_secret=secret), basic_auth(application.client_id, "wrong"))

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert "access_token" not in response.json()


def test_the_same_secret_sent_both_ways_is_accepted(client, make_application):
    application, secret = make_application()

    response = post_token(
        client,
        grant_body(client_id=application.client_id, client_secret=secret),
        basic_auth(application.client_id, secret),
    )

    assert response.status_code == 200


@pytest.mark.parametrize("field", ["client_id", "client_secret"])
def test_a_credential_given_twice_in_the_body_is_invalid_request(client, make_application, field):
    application, secret = make_application()
    fields = [("grant_type", "client_credentials"), ("client_id", application.client_id), ("client_secret", secret)]
    fields.append((field, dict(fields)[field] + "x"))

    response = post_token(client, urlencode(fields))

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def json_object(pairs) -> str:
    """A JSON object written pair by pair, so that a key can be given twice."""
    return "{" + ", ".join(f"{json.dumps(key)}: {json.dumps(value)}" for key, value in pairs) + "}"


@pytest.mark.parametrize(
    "url, fields",
    [
        ("/oauth/token", [("grant_type", "client_credentials")]),
        ("/oauth/revoke", [("token", "abc")]),
        ("/oauth/introspect", [("token", "abc")]),
    ],
)
@pytest.mark.parametrize("repeated", ["client_secret", "client_id"])
def test_a_key_repeated_in_a_json_body_is_invalid_request_and_counts_nothing(
    client, make_application, frozen_time, url, fields, repeated
):
    application, secret = make_application()
    credentials = {"client_id": application.client_id, "client_secret": secret}
    # The wrong value first, the right one last: the one json.loads alone would keep.
    pairs = [*fields, (repeated, "wrong"), *credentials.items()]

    for _ in range(4):  # one more than the limit small_limits sets
        response = client.post(url, json_object(pairs), content_type="application/json")
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_request"

    assert request_token(client, application, secret).status_code == 200


def test_wrong_basic_credentials_and_a_body_secret_try_one_secret_per_counted_failure(
    client, make_application, frozen_time
):
    application, secret = make_application()

    for _ in range(3):
        response = post_token(
            client,
            grant_body(client_id=application.client_id, client_secret="also-wrong"),
            basic_auth(application.client_id, "wrong"),
        )
        assert response.status_code == 400

    # Refused before any check: nothing was tried, nothing counted.
    assert request_token(client, application, secret).status_code == 200


@pytest.mark.parametrize("field", ["client_secret", "client_id", "grant_type", "scope", "audience"])
def test_a_lone_surrogate_in_a_json_field_is_invalid_request(client, make_application, field):
    application, secret = make_application()
    fields = {"grant_type": "client_credentials", "client_id": application.client_id, "client_secret": secret}
    fields[field] = "\ud800" + fields.get(field, "")

    response = post_token(client, json.dumps(fields), content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_a_lone_surrogate_in_a_json_key_is_invalid_request(client, db):
    response = post_token(
        client, '{"grant_type": "client_credentials", "\\udc80": "x"}', content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
