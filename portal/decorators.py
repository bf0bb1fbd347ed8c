from functools import wraps

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from portal.selectors import current_membership


def member_required(view):
    """Signed in and a member of an organization; sets `request.membership` for the view.

    Memberships are read afresh on every request, so a removed member loses access at the next one.
    """

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        request.membership = current_membership(request)
        if request.membership is None:
            # Removed from their only organization, say: a page that says so, not a bare "not allowed".
            return render(request, "no_organization.html", status=403)
        return view(request, *args, **kwargs)

    return wrapper
