from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from portal.models import Invitation, MemberEvent, Membership, Organization
from portal.names import name_key

SESSION_ORGANIZATION_KEY = "organization_id"


def lookalike_username(username: str) -> str | None:
    """Another user's name that is the same name as this one (NFKC and case folding: "ＡＬＩＣＥ", "alice"), if any.

    Read whole: no database folds case the way Unicode does. Account creations are rare and serialized anyway.
    """
    key = name_key(username)
    usernames = get_user_model().objects.values_list("username", flat=True)
    return next((existing for existing in usernames.iterator() if name_key(existing) == key), None)


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
    for membership in request.memberships:
        membership.user = request.user  # already loaded by the session: no second read for the actor's name
    chosen = request.session.get(SESSION_ORGANIZATION_KEY)
    by_organization = {membership.organization_id: membership for membership in request.memberships}
    return by_organization.get(chosen) or next(iter(request.memberships), None)


def is_member(*, user, organization) -> bool:
    return Membership.objects.filter(organization=organization, user=user).exists()


def members_of(organization) -> QuerySet[Membership]:
    """The organization's memberships, oldest first. Tenant scoping for members happens here."""
    return Membership.objects.filter(organization=organization).select_related("user").order_by("created_at", "id")


def get_member(*, organization, public_id) -> Membership:
    """The organization's membership, or Http404, also for another organization's member."""
    return get_object_or_404(members_of(organization).select_related("organization"), public_id=public_id)


def _open() -> Q:
    return Q(accepted_at=None, revoked_at=None, expires_at__gt=timezone.now())


def usable_invitations() -> QuerySet[Invitation]:
    """Invitations whose link works: open, and their creator still an admin of the organization (contract §9).

    Removing or demoting an admin revokes theirs; this also refuses what that cannot reach: an invitation whose
    creator was deleted (invited_by is NULL) or lost the role some other way.
    """
    creator_is_admin = Membership.objects.filter(
        organization=OuterRef("organization"), user=OuterRef("invited_by"), role=Membership.Role.ADMIN
    )
    return Invitation.objects.filter(_open(), Exists(creator_is_admin))


def open_invitations_by(membership: Membership) -> QuerySet[Invitation]:
    """The invitations of the member's organization they created that are neither used, revoked nor expired."""
    return Invitation.objects.filter(
        _open(), organization_id=membership.organization_id, invited_by_id=membership.user_id
    )


def pending_invitations_for(organization) -> QuerySet[Invitation]:
    return usable_invitations().filter(organization=organization).order_by("-created_at", "-id")


def get_pending_invitation(*, organization, public_id) -> Invitation:
    """The organization's pending invitation, or Http404 (another organization's, used, revoked or expired)."""
    return get_object_or_404(pending_invitations_for(organization).select_related("organization"), public_id=public_id)


def invitation_for_token(token: str) -> Invitation | None:
    """The usable invitation whose link carries this token; None when it is used, revoked, expired, unknown, or its
    creator is no longer an admin."""
    return (
        usable_invitations()
        .select_related("organization", "invited_by")
        .filter(token_hash=Invitation.hash_token(token))
        .first()
    )


def member_events_for(organization) -> QuerySet[MemberEvent]:
    return MemberEvent.objects.filter(organization=organization)


def admin_emails(organization) -> list[str]:
    """The addresses of the organization's admins, for the notices mailed to them; an admin without one is skipped."""
    admins = Membership.objects.filter(organization=organization, role=Membership.Role.ADMIN).exclude(user__email="")
    return list(admins.order_by("created_at", "id").values_list("user__email", flat=True))
