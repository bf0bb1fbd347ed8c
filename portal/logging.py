import logging
import re

from django.views.debug import SafeExceptionReporterFilter

# Values that must never reach a log line: secrets and tokens in form/query/JSON
# fields, and credentials in Authorization headers.
_PATTERNS = [
    (re.compile(r"(?i)\b(client_secret|access_token|refresh_token|password|token)=([^&\s\"',]+)"), r"\1=[redacted]"),
    (
        re.compile(r"(?i)([\"'](?:client_secret|access_token|refresh_token|password|token)[\"']\s*:\s*[\"'])([^\"']+)"),
        r"\1[redacted]",
    ),
    (re.compile(r"(?i)\b(Basic|Bearer)\s+[A-Za-z0-9._~+/=-]+"), r"\1 [redacted]"),
]


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactSecretsFilter(logging.Filter):
    """Scrubs secrets from every record a handler writes, whichever library logged them."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


class SecretsHiddenReporterFilter(SafeExceptionReporterFilter):
    """Django's filter, also with DEBUG on: a marked frame's locals stay hidden on the debug page too."""

    def is_active(self, request):
        return True
