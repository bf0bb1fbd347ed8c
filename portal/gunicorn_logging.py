"""Gunicorn's logger with every access-log field passed through `portal.logging.redact_path`.

Used by `make run` (`--logger-class portal.gunicorn_logging.AccessLogger`): the request line, path
and referrer of an invitation link are written as /invitations/…/, whatever the log format names.
"""

from gunicorn.glogging import Logger

from portal.logging import redact_path


class AccessLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        return {key: redact_path(value) if isinstance(value, str) else value for key, value in atoms.items()}
