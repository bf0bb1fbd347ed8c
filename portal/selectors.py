from django.db.models import Q, QuerySet

from portal.models import Membership, Organization

SESSION_ORGANIZATION_KEY = "organization_id"


def memberships_for(user) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user).select_related("organization").order_by("organization__name")


def find_organization(name_or_slug: str) -> Organization | None:
    return Organization.objects.filter(Q(name=name_or_slug) | Q(slug=name_or_slug)).first()


def current_membership(request) -> Membership | None:
    """The membership of the organization chosen in the session, else the user's first one.

    Keeps the user's memberships on the request, so the page's organization switcher reads no more.
    """
    if not request.user.is_authenticated:
        return None
    request.memberships = list(memberships_for(request.user))
    chosen = request.session.get(SESSION_ORGANIZATION_KEY)
    by_organization = {membership.organization_id: membership for membership in request.memberships}
    return by_organization.get(chosen) or next(iter(request.memberships), None)
