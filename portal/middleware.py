from django.db import DatabaseError
from django.shortcuts import redirect
from django.urls import reverse

from portal.twofactor import PENDING_SIGN_IN_KEY

# Application credentials, never a session, open these: a browser's half-finished sign-in changes nothing there.
_SESSIONLESS = ("/api/", "/oauth/", "/.well-known/", "/healthz", "/readyz", "/metrics", "/static/")


class SecondStepMiddleware:
    """Between the password and the second factor the session is not signed in yet, and reaches no page but the
    second step and sign-out: every other request, whatever its method, is sent to the second step."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        if not path.startswith(_SESSIONLESS) and path not in (reverse("second-step"), reverse("logout")):
            try:
                waiting = PENDING_SIGN_IN_KEY in request.session
            except DatabaseError:
                # The database is away: the view answers the outage. (A waiting session is not signed in anyway.)
                waiting = False
            if waiting:
                return redirect("second-step")
        return self.get_response(request)
