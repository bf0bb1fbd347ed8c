import json
import logging
import re
import time

from django.views.debug import SafeExceptionReporterFilter

# Values that must never reach a log line: secrets and tokens in form/query/JSON
# fields, and credentials in Authorization headers.
_PATTERNS = [
    (
        re.compile(r"(?i)\b(client_secret|client_assertion|access_token|refresh_token|password|token)=([^&\s\"',]+)"),
        r"\1=[redacted]",
    ),
    (
        re.compile(
            r"(?i)([\"'](?:client_secret|client_assertion|access_token|refresh_token|password|token)[\"']\s*:\s*[\"'])"
            r"([^\"']+)"
        ),
        r"\1[redacted]",
    ),
    # A private key pasted where a public one belongs: its whole PEM block, whatever its label.
    (re.compile(r"-----BEGIN ([A-Z0-9 ]*PRIVATE KEY)-----.*?(-----END \1-----|$)", re.DOTALL), r"[redacted \1]"),
    (re.compile(r"(?i)\b(Basic|Bearer)\s+[A-Za-z0-9._~+/=-]+"), r"\1 [redacted]"),
]


# An invitation link's token is its path segment: /invitations/<token>/… is written /invitations/…/…, also
# spelled /invitations//<token>/, /invitations/%2F<token>/ (a raw request line) or in capitals.
_INVITATION_PATH = re.compile(r"(?i)/invitations(?:[/\s]|%2f)+[^/\s?#\"']+")

# What ends a line for some reader of a log (C0 with CR and LF, DEL, C1 with NEL, U+2028 and U+2029) or
# reorders it on screen (bidirectional marks and overrides): from a request, it could forge or hide a record.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_CONTROL_BUT_NEWLINE = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escaped(match: re.Match) -> str:
    char = match.group()
    return _SHORT_ESCAPES.get(char) or (f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}")


def escape_controls(text: str, *, keep_newlines: bool = False) -> str:
    """`text` on one line: control characters written as Python escapes (`\\n`, `\\x85`, `\\u2028`).

    A backslash stays as it is, so that escaping twice changes nothing.
    """
    return (_CONTROL_BUT_NEWLINE if keep_newlines else _CONTROL).sub(_escaped, text)


def redact_path(text: str) -> str:
    """The text with every invitation token taken out of the paths in it; the one place that knows the shape."""
    return _INVITATION_PATH.sub("/invitations/…", text)


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return redact_path(text)


def scrub(text: str) -> str:
    """What a log line may show of `text`: secrets and invitation tokens out, on one line."""
    return escape_controls(redact(text))


class RedactSecretsFilter(logging.Filter):
    """Scrubs secrets from every record a handler writes, whichever library logged them."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = scrub(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        fields = getattr(record, "request_fields", None)
        if fields:
            record.request_fields = {name: _scrubbed(value) for name, value in fields.items()}
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            # A traceback keeps its lines; nothing else in it may break or reorder one.
            record.exc_text = escape_controls(redact(record.exc_text), keep_newlines=True)
        return True


def _scrubbed(value):
    return scrub(value) if isinstance(value, str) else value


class JsonFormatter(logging.Formatter):
    """LOG_FORMAT=json: one JSON object per line, for log shippers.

    time, level, logger and message always; method, path, status, duration_ms, remote_addr
    and client_id on request records (ops/requestlog.py), and peer_addr when the client came through a trusted
    proxy; the traceback when there is one.
    Every string is scrubbed again here (scrubbing twice changes nothing), for records the redaction filter
    does not see.
    """

    converter = time.gmtime  # times in UTC, as the Z says

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": scrub(record.getMessage()),
        }
        for name, value in getattr(record, "request_fields", {}).items():
            entry[name] = _scrubbed(value)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = escape_controls(redact(record.exc_text), keep_newlines=True)
        return json.dumps(entry, ensure_ascii=False)


class SecretsHiddenReporterFilter(SafeExceptionReporterFilter):
    """Django's filter, also with DEBUG on: a marked frame's locals stay hidden on the debug page too."""

    def is_active(self, request):
        return True
