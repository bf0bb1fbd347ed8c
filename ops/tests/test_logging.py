import json
import logging

import pytest

from ops.logging import JsonFormatter, RedactSecretsFilter, escape_controls, redact, redact_path, scrub


@pytest.mark.parametrize(
    "line, secret",
    [
        ("POST body grant_type=client_credentials&client_secret=S3cretValue&x=1", "S3cretValue"),
        ('{"client_id": "abc", "client_secret": "S3cretValue"}', "S3cretValue"),
        ("Authorization: Basic YWJjOlMzY3JldFZhbHVl", "YWJjOlMzY3JldFZhbHVl"),
        ("Authorization: Bearer tok3nValue.x-y", "tok3nValue"),
        ("GET /api/credentials?access_token=tok3nValue", "tok3nValue"),
        ("{'password': 'hunter2hunter2'}", "hunter2hunter2"),
        ("grant_type=client_credentials&client_assertion=eyJhbGciOi.eyJpc3Mi.c2lnbmF0dXJl", "eyJpc3Mi"),
        ('{"client_assertion": "eyJhbGciOi.eyJpc3Mi.c2lnbmF0dXJl"}', "eyJpc3Mi"),
    ],
)
def test_secrets_are_redacted(line, secret):
    cleaned = redact(line)

    assert secret not in cleaned
    assert "[redacted]" in cleaned


@pytest.mark.parametrize("label", ["PRIVATE KEY", "EC PRIVATE KEY", "OPENSSH PRIVATE KEY", "ENCRYPTED PRIVATE KEY"])
def test_a_private_key_is_redacted_whole_even_cut_off(label):
    block = f"-----BEGIN {label}-----\nMIGHAgEAMBMGByqGSM49\nAgEGCCqGSM49AwEHBG0w\n-----END {label}-----"

    for text in (f"public_key: {block} (refused)", f"public_key: {block[:60]}"):
        cleaned = redact(text)
        assert "MIGHAgEA" not in cleaned and "AgEGCCqG" not in cleaned
        assert f"[redacted {label}]" in cleaned


def test_the_filter_redacts_arguments_and_tracebacks():
    try:
        raise ValueError("client_secret=S3cretValue")
    except ValueError as error:
        record = logging.LogRecord(
            "x", logging.ERROR, __file__, 1, "bad %s", ("Bearer tok3nValue",), (type(error), error, error.__traceback__)
        )

    RedactSecretsFilter().filter(record)

    assert "tok3nValue" not in record.getMessage()
    assert "S3cretValue" not in record.exc_text


def test_plain_lines_pass_untouched():
    assert redact("Unauthorized: /oauth/token") == "Unauthorized: /oauth/token"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("/invitations/AbC-12_x/", "/invitations/…/"),
        ("GET /invitations/AbC-12_x/?next=1 HTTP/1.1", "GET /invitations/…/?next=1 HTTP/1.1"),
        ("Not Found: /invitations/AbC-12_x", "Not Found: /invitations/…"),
        ("http://portal.example/invitations/AbC-12_x/more/", "http://portal.example/invitations/…/more/"),
        ('"/invitations/AbC-12_x/"', '"/invitations/…/"'),
        ("/organization/members/invite/", "/organization/members/invite/"),
    ],
)
def test_redact_path_takes_the_token_out_of_invitation_paths(text, expected):
    assert redact_path(text) == expected


def test_the_filter_redacts_an_invitation_path_given_as_an_argument():
    args = ("Not Found", "/invitations/T0ken/")
    record = logging.LogRecord("django.request", logging.WARNING, __file__, 1, "%s: %s", args, None)

    RedactSecretsFilter().filter(record)

    assert record.getMessage() == "Not Found: /invitations/…/"


# Characters that end a line for Python's str.splitlines, log shippers or terminals, or reorder one on screen.
LINE_BREAKERS = ["\n", "\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029", "\x00", "\x1b"]
OTHER_CONTROLS = ["\t", "\x7f", "\x9b", "\u202e", "\u2066"]


@pytest.mark.parametrize("char", LINE_BREAKERS + OTHER_CONTROLS)
def test_escape_controls_writes_every_control_character_as_an_escape(char):
    escaped = escape_controls(f"a{char}b")

    assert len(escaped.splitlines()) == 1
    assert char not in escaped
    assert escaped == "a" + char.encode("unicode_escape").decode("ascii") + "b"
    assert escape_controls(escaped) == escaped


def test_escape_controls_leaves_printable_text_alone():
    text = "GET /invitations/…/ 200 résumé 名前 \\n"

    assert escape_controls(text) == text


def test_the_filter_escapes_a_request_value_given_as_an_argument():
    forged = "/x\n[2026-01-01 00:00:00,000] INFO portal.request: GET /forged 200 1.0ms"
    record = logging.LogRecord("ops.outage", logging.WARNING, __file__, 1, "database unavailable: %s", (forged,), None)

    RedactSecretsFilter().filter(record)

    assert (
        record.getMessage()
        == "database unavailable: /x\\n[2026-01-01 00:00:00,000] INFO portal.request: GET /forged 200 1.0ms"
    )


@pytest.mark.parametrize(
    "path",
    [
        "/invitations//Tok3nValue/",
        "/invitations///Tok3nValue/",
        "/invitations/%2FTok3nValue/",
        "/invitations%2FTok3nValue/",
        "/invitations%2f%2fTok3nValue/more/",
        "/INVITATIONS/Tok3nValue/",
        "/Invitations//Tok3nValue",
        "/invitations/\nTok3nValue/",
        "/invitations/ Tok3nValue/",
        "//invitations//Tok3nValue/accept/",
        "/invitations/Tok3nValue%2F",
        "/invitations/Tok3nValue?next=/x",
    ],
)
def test_no_spelling_of_an_invitation_path_keeps_its_token(path):
    assert "Tok3nValue" not in redact_path(path)
    assert "Tok3nValue" not in scrub(f"Not Found: {path}")


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
