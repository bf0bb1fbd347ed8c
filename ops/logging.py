import json
import logging
import re
import time

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


# An invitation link's token is its path segment: /invitations/<token>/… is written /invitations/…/….
_INVITATION_PATH = re.compile(r"/invitations/[^/\s?#\"']+")


def redact_path(text: str) -> str:
    """The text with every invitation token taken out of the paths in it; the one place that knows the shape."""
    return _INVITATION_PATH.sub("/invitations/…", text)


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return redact_path(text)


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


class JsonFormatter(logging.Formatter):
    """LOG_FORMAT=json: one JSON object per line, for log shippers.

    time, level, logger and message always; method, path, status, duration_ms, remote_addr
    and client_id on request records (ops/requestlog.py); the traceback when there is one.
    Every string is scrubbed again here, for fields the redaction filter does not see.
    """

    converter = time.gmtime  # times in UTC, as the Z says

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        for name, value in getattr(record, "request_fields", {}).items():
            entry[name] = redact(value) if isinstance(value, str) else value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = redact(record.exc_text)
        return json.dumps(entry, ensure_ascii=False)


class SecretsHiddenReporterFilter(SafeExceptionReporterFilter):
    """Django's filter, also with DEBUG on: a marked frame's locals stay hidden on the debug page too."""

    def is_active(self, request):
        return True
