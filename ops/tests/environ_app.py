"""A WSGI application for ops/tests/test_serve.py: it answers with the names in the environ it was given, bare at
/bare, and behind ProcessEnvironmentLeftOut anywhere else."""

from ops.serve import ProcessEnvironmentLeftOut


def _names(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return ["\n".join(sorted(environ)).encode()]


_left_out = ProcessEnvironmentLeftOut(_names)


def application(environ, start_response):
    if environ.get("PATH_INFO") == "/bare":
        return _names(environ, start_response)
    return _left_out(environ, start_response)
