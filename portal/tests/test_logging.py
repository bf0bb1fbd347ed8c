import logging

import pytest

from portal.logging import RedactSecretsFilter, redact


@pytest.mark.parametrize(
    "line, secret",
    [
        ("POST body grant_type=client_credentials&client_secret=S3cretValue&x=1", "S3cretValue"),
        ('{"client_id": "abc", "client_secret": "S3cretValue"}', "S3cretValue"),
        ("Authorization: Basic YWJjOlMzY3JldFZhbHVl", "YWJjOlMzY3JldFZhbHVl"),
        ("Authorization: Bearer tok3nValue.x-y", "tok3nValue"),
        ("GET /api/credentials?access_token=tok3nValue", "tok3nValue"),
        ("{'password': 'hunter2hunter2'}", "hunter2hunter2"),
    ],
)
def test_secrets_are_redacted(line, secret):
    cleaned = redact(line)

    assert secret not in cleaned
    assert "[redacted]" in cleaned


def test_the_filter_redacts_arguments_and_tracebacks():
    try:
        raise ValueError("client_secret=S3cretValue")
    except ValueError as error:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "bad %s", ("Bearer tok3nValue",), (type(error), error, error.__traceback__))

    RedactSecretsFilter().filter(record)

    assert "tok3nValue" not in record.getMessage()
    assert "S3cretValue" not in record.exc_text


def test_plain_lines_pass_untouched():
    assert redact("Unauthorized: /oauth/token") == "Unauthorized: /oauth/token"
