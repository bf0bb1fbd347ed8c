"""The one log record each request leaves: its fields, no query string, no secret URL argument."""

import logging

from django.test import RequestFactory
from django.urls import ResolverMatch

from applications.tests.oauth_helpers import request_token
from ops.requestlog import log_path


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
