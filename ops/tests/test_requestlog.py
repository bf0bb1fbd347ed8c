"""Contract §8's /metrics, and the one log record each request leaves (text, or JSON with LOG_FORMAT=json)."""

import importlib
import json
import logging
import re
from urllib.parse import urlencode

import pytest
from django.test import RequestFactory
from django.urls import ResolverMatch
from django.utils.crypto import get_random_string
from prometheus_client.parser import text_string_to_metric_families

from applications.identifiers import generate_client_secret
from applications.tests.oauth_helpers import request_token
from ops.logging import JsonFormatter, RedactSecretsFilter
from ops.requestlog import log_path

METRICS_TOKEN = "metrics-token-for-tests"


@pytest.fixture
def metrics_on(settings):
    settings.METRICS_TOKEN = METRICS_TOKEN


def scrape(client) -> tuple[str, dict]:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {METRICS_TOKEN}")
    assert response.status_code == 200
    text = response.content.decode()
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return text, samples


def value(samples, name, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_is_404_without_a_metrics_token(client, settings):
    settings.METRICS_TOKEN = ""

    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer anything").status_code == 404


@pytest.mark.parametrize("authorization", [None, "Bearer wrong", f"Basic {METRICS_TOKEN}", "Bearer"])
def test_metrics_is_401_without_the_right_bearer_token(client, metrics_on, authorization):
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}

    response = client.get("/metrics", **headers)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert b"portal_" not in response.content


def test_metrics_count_token_results_statuses_and_route_latency(client, metrics_on, make_application, settings):
    settings.FAILURE_LIMITS = {**settings.FAILURE_LIMITS, "TOKEN_PER_CLIENT_ADDRESS": (2, 60)}
    application, secret = make_application(scopes=["read:credentials"])
    _, before = scrape(client)

    token = request_token(client, application, secret).json()["access_token"]
    client.get("/api/credentials?page=1", HTTP_AUTHORIZATION=f"Bearer {token}")
    request_token(client, application, secret, scope="delete:everything")
    for _ in range(2):
        request_token(client, application, "wrong")
    assert request_token(client, application, secret).status_code == 429
    text, after = scrape(client)

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("portal_token_requests_total", result="issued") == 1
    assert delta("portal_token_requests_total", result="invalid_scope") == 1
    assert delta("portal_token_requests_total", result="invalid_client") == 2
    assert delta("portal_token_requests_total", result="too_many_attempts") == 1
    assert delta("portal_http_requests_total", status="200") >= 2  # the grant, the API call (and the first scrape)
    assert delta("portal_http_requests_total", status="401") == 2
    assert delta("portal_http_requests_total", status="429") == 1
    assert delta("portal_http_request_duration_seconds_count", route="api/credentials", method="GET") == 1
    assert delta("portal_http_request_duration_seconds_count", route="oauth/token", method="POST") == 5
    for secret_value in (application.client_id, secret, token, "page=1"):
        assert secret_value not in text


def test_metrics_never_take_a_raw_path_as_a_label(client, metrics_on, db):
    client.get("/no/such/page/abc123")

    text, _ = scrape(client)

    assert "abc123" not in text
    assert 'route="unmatched"' in text


def test_a_database_outage_counts_as_temporarily_unavailable(client, metrics_on, make_application, monkeypatch):
    from django.db import OperationalError

    application, secret = make_application()
    _, before = scrape(client)

    def down(*args, **kwargs):
        raise OperationalError("the database system is shutting down")

    monkeypatch.setattr("applications.oauth.validator.ApplicationValidator.authenticate_client", down)
    assert request_token(client, application, secret).status_code == 503
    monkeypatch.undo()
    _, after = scrape(client)

    assert (
        value(after, "portal_token_requests_total", result="temporarily_unavailable")
        - value(before, "portal_token_requests_total", result="temporarily_unavailable")
        == 1
    )


# --- The request log ---------------------------------------------------------------------------


def request_records(caplog):
    return [r for r in caplog.records if r.name == "portal.request"]


def test_each_request_leaves_one_record_with_client_id_and_no_query_string(client, make_application, caplog):
    application, secret = make_application(scopes=["read:credentials"])

    with caplog.at_level(logging.INFO, logger="portal.request"):
        token = request_token(client, application, secret).json()["access_token"]
        client.get("/api/credentials?page=1&access_token=leak", HTTP_AUTHORIZATION=f"Bearer {token}")
        client.get("/accounts/login/?next=/somewhere")

    grant, api, page = request_records(caplog)
    assert grant.request_fields | {"duration_ms": 0} == {
        "method": "POST",
        "path": "/oauth/token",
        "status": 200,
        "duration_ms": 0,
        "remote_addr": "127.0.0.1",
        "client_id": application.client_id,
    }
    assert api.request_fields["path"] == "/api/credentials"
    assert api.request_fields["client_id"] == application.client_id
    assert api.request_fields["status"] == 200
    assert page.request_fields["path"] == "/accounts/login/" and "client_id" not in page.request_fields
    assert all("leak" not in r.getMessage() and "?" not in r.getMessage() for r in (grant, api, page))
    assert grant.getMessage().startswith("POST /oauth/token 200 ")


def test_probes_are_logged_at_debug_only(client, db, caplog):
    with caplog.at_level(logging.INFO, logger="portal.request"):
        client.get("/healthz")

    assert request_records(caplog) == []


def test_url_arguments_that_carry_a_secret_are_hidden_in_the_log_path():
    request = RequestFactory().get("/invitations/Secr3tInvite/accept/?x=1")
    request.resolver_match = ResolverMatch(
        lambda r: None, args=(), kwargs={"token": "Secr3tInvite"}, route="invitations/<str:token>/accept/"
    )

    assert log_path(request) == "/invitations/…/accept/"


def test_json_lines_have_the_request_fields_and_stay_scrubbed():
    record = logging.LogRecord(
        "portal.request",
        logging.INFO,
        __file__,
        1,
        "POST %s with client_secret=%s",
        ("/oauth/token", "S3cretValue"),
        None,
    )
    record.request_fields = {
        "method": "POST",
        "path": "/oauth/token",
        "status": 200,
        "duration_ms": 1.5,
        "client_id": "abc",
    }
    RedactSecretsFilter().filter(record)

    line = JsonFormatter().format(record)

    entry = json.loads(line)
    assert "\n" not in line
    required = {"time", "level", "logger", "message", "method", "path", "status", "duration_ms", "client_id"}
    assert required <= entry.keys()
    assert entry["level"] == "INFO" and entry["logger"] == "portal.request" and entry["status"] == 200
    assert entry["time"].endswith("Z")
    assert "S3cretValue" not in line


def test_json_lines_carry_scrubbed_tracebacks():
    try:
        raise ValueError("Authorization: Bearer tok3nValue")
    except ValueError as error:
        exc_info = (type(error), error, error.__traceback__)
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), exc_info)

    entry = json.loads(JsonFormatter().format(record))

    assert "ValueError" in entry["exception"] and "tok3nValue" not in entry["exception"]


@pytest.mark.parametrize("log_format, formatter", [("json", "json"), ("text", "text"), (None, "text")])
def test_log_format_picks_the_formatter(monkeypatch, log_format, formatter):
    if log_format is None:
        monkeypatch.delenv("LOG_FORMAT", raising=False)
    else:
        monkeypatch.setenv("LOG_FORMAT", log_format)
    import config.settings

    try:
        reloaded = importlib.reload(config.settings)
        assert reloaded.LOGGING["handlers"]["console"]["formatter"] == formatter
        assert reloaded.LOGGING["handlers"]["console"]["filters"] == ["redact_secrets"]
    finally:
        monkeypatch.delenv("LOG_FORMAT", raising=False)
        importlib.reload(config.settings)


# --- Forged lines: what a request sends stays inside its one line ---------------------------------------------

FORGED = "[2026-01-01 00:00:00,000] INFO portal.request: POST /oauth/token 200 1.0ms client=forged"


def written_lines(written_log, log_format) -> list:
    """The log as its readers split it (str.splitlines: CR, LF, NEL, U+2028…), one parsed entry per line."""
    lines = written_log.getvalue().splitlines()
    if log_format == "json":
        return [json.loads(line) for line in lines]
    assert all(re.match(r"\[[^]]+\] [A-Z]+ [\w.]+: ", line) for line in lines), lines
    return lines


def request_lines(entries, log_format) -> list:
    if log_format == "json":
        return [entry for entry in entries if entry["logger"] == "portal.request"]
    return [line for line in entries if re.match(r"\[[^]]+\] [A-Z]+ portal\.request: ", line)]


def test_control_characters_in_the_path_stay_escaped_in_one_line(client, db, written_log, log_format):
    # Django decodes %0A in the path into a newline in request.path, as the server does.
    client.get("/oauth/x%0A" + FORGED.replace(" ", "%20") + "%0D%C2%85%E2%80%A8%E2%80%A9end")

    entries = written_lines(written_log, log_format)
    (line,) = request_lines(entries, log_format)
    escaped_path = "/oauth/x\\n" + FORGED + "\\r\\x85\\u2028\\u2029end"
    if log_format == "json":
        assert line["path"] == escaped_path
        assert line["message"].startswith(f"GET {escaped_path} 404 ")
    else:
        assert f"INFO portal.request: GET {escaped_path} 404 " in line
    assert len(entries) == 2  # this line, and Django's "Not Found" warning


def test_a_newline_in_a_body_client_id_forges_no_line(client, db, written_log, log_format):
    body = {"grant_type": "client_credentials", "client_id": "abc\n" + FORGED, "client_secret": "wrong"}

    response = client.post("/oauth/token", urlencode(body), content_type="application/x-www-form-urlencoded")

    assert response.status_code == 401
    entries = written_lines(written_log, log_format)
    (line,) = request_lines(entries, log_format)
    if log_format == "json":
        assert line["client_id"] == "…" and line["status"] == 401
    else:
        assert line.endswith(" client=…")
    assert "forged" not in written_log.getvalue()


@pytest.mark.parametrize(
    "sent",
    [
        pytest.param(generate_client_secret, id="ipcs-secret"),
        pytest.param(lambda: get_random_string(64), id="toolkit-secret"),
        pytest.param(lambda: get_random_string(39), id="too-short"),
        pytest.param(lambda: get_random_string(39) + "-", id="not-alphanumeric"),
    ],
)
def test_a_client_id_not_shaped_like_one_is_logged_as_an_ellipsis(client, db, written_log, log_format, sent):
    sent = sent()

    response = client.post(
        "/oauth/token",
        urlencode({"grant_type": "client_credentials", "client_id": sent, "client_secret": "wrong"}),
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 401
    (line,) = request_lines(written_lines(written_log, log_format), log_format)
    assert (line["client_id"] if log_format == "json" else line.rsplit(" ", 1)[1]) in ("…", "client=…")
    assert sent not in written_log.getvalue()


def test_a_client_id_the_portal_issued_is_logged_in_each_format(client, make_application, written_log, log_format):
    application, _ = make_application()

    request_token(client, application, "wrong")

    (line,) = request_lines(written_lines(written_log, log_format), log_format)
    if log_format == "json":
        assert line["client_id"] == application.client_id
    else:
        assert line.endswith(f" client={application.client_id}")
