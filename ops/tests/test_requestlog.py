"""The one log record each request leaves: its fields, no query string, no secret URL argument."""

import json
import logging
import re
from urllib.parse import urlencode

import pytest
from django.test import RequestFactory
from django.urls import ResolverMatch
from django.utils.crypto import get_random_string

from applications.identifiers import generate_client_secret
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
