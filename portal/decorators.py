from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied

from portal.selectors import current_membership


def member_required(view):
    """Signed in and a member of an organization; sets `request.membership` for the view."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        request.membership = current_membership(request)
        if request.membership is None:
            raise PermissionDenied("You are not a member of any organization.")
        return view(request, *args, **kwargs)

    return wrapper
