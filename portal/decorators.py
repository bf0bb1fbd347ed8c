from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers, patch_cache_control

from portal.actors import Actor, require_admin
from portal.form_tokens import FormAlreadySubmitted
from portal.selectors import current_membership
from portal.twofactor import has_second_factor


def member_required(view):
    """Signed in and a member of an organization; sets `request.membership` for the view.

    Memberships are read afresh on every request, so a removed member loses access at the next one. While the
    organization requires two-factor sign-in, a member without a second factor is sent to add one (contract §13).
    """

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        request.membership = current_membership(request)
        if request.membership is None:
            # Removed from their only organization, say: a page that says so, not a bare "not allowed".
            return render(request, "no_organization.html", status=403)
        organization = request.membership.organization
        if organization.require_two_factor and not has_second_factor(request.user):
            messages.info(
                request, f"{organization.name} requires two-factor sign-in: add an authenticator app or a passkey."
            )
            return redirect("account-security")
        return view(request, *args, **kwargs)

    return wrapper


def admins_only(request) -> None:
    """PermissionDenied unless the member (`member_required`) is an admin of their current organization.

    The services enforce the same rule; checking first spares members a form they could never submit.
    """
    require_admin(Actor.member(request), request.membership.organization)


def one_time_form(*, spent_template: str, spent_name: str):
    """For a view whose form carries a one-time token (portal.form_tokens): its caching, and the answer to a token
    already spent, `spent_template` given what the token created as `spent_name` (None in another organization)."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method == "GET":
                response = view(request, *args, **kwargs)
                # Not no-store: Back must bring this very page (and its one-time token) back from the history cache.
                patch_cache_control(response, private=True, max_age=0)
                return response
            try:
                response = view(request, *args, **kwargs)
            except FormAlreadySubmitted as spent:
                response = render(request, spent_template, {spent_name: spent.earlier})
            # Every answer to the POST: the one-time secret or link above all, but also whatever a reload repeats.
            add_never_cache_headers(response)
            return response

        return wrapper

    return decorator
