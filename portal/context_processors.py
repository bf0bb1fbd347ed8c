from portal.selectors import memberships_for


def organization(request):
    """The current membership (set by `member_required`) and the user's others, for the switcher."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "membership": getattr(request, "membership", None),
        "memberships": getattr(request, "memberships", None) or memberships_for(user),
    }
