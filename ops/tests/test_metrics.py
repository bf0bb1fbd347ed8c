"""Contract §8's /metrics: totals over every worker, no client ID, secret, token or raw path in a label."""

import pytest
from prometheus_client.parser import text_string_to_metric_families

from applications.tests.oauth_helpers import request_token

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
