"""Writes to organizations and their members: set-up, invitations, joins, role changes and removals.

Every rule lives here, so the pages, the command line and any future API share it: only the
organization's admins invite, change roles, remove and revoke (`require_admin`), and the
organization always keeps at least one admin, even under concurrent requests.
"""

import logging
import secrets
from dataclasses import replace

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, connections, router, transaction
from django.utils import timezone
from django.utils.text import slugify

from portal import form_tokens
from portal.activity import record_activity
from portal.actors import Actor, require_admin
from portal.models import Invitation, MemberEvent, Membership, Organization
from portal.selectors import (
    find_organization,
    is_member,
    lookalike_username,
    open_invitations_by,
    pending_invitations_for,
    usable_invitations,
)

logger = logging.getLogger(__name__)

USERNAME_TAKEN = "A user with that username already exists."
# The key of PostgreSQL's advisory lock over account creation: "username" in ASCII; any fixed number would do.
_USERNAMES_LOCK = 0x757365726E616D65

LAST_ADMIN = "The organization must keep at least one admin: make another member an admin first."


def record_member_event(*, organization, action: str, subject: str, actor: Actor, changes: dict | None = None) -> None:
    record_activity(
        MemberEvent,
        actor=actor,
        action=action,
        changes=changes,
        organization_id=organization.pk,
        subject=subject[:255],
    )


def _lock(organization) -> None:
    """Serialize every change to the organization's members, so two admins cannot each remove the other.

    SELECT … FOR UPDATE on PostgreSQL; SQLite's IMMEDIATE transactions already serialize writers.
    """
    Organization.objects.select_for_update().filter(pk=organization.pk).first()


def _require_admin_now(actor: Actor, organization) -> None:
    """`require_admin` against the actor's membership as committed now, read under the lock.

    The membership on the request was read before the lock: another admin may have demoted or removed it since.
    """
    require_admin(actor, organization)
    if actor.membership is not None:
        current = Membership.objects.filter(pk=actor.membership.pk).select_related("user").first()
        if current is None:
            raise PermissionDenied("You are no longer a member of this organization.")
        require_admin(replace(actor, membership=current), organization)


def _admins_left(organization, *, without: Membership) -> int:
    return (
        Membership.objects.filter(organization=organization, role=Membership.Role.ADMIN).exclude(pk=without.pk).count()
    )


def _fresh(membership: Membership) -> Membership:
    fresh = Membership.objects.select_related("user", "organization").filter(pk=membership.pk).first()
    if fresh is None:
        raise ValidationError("This member has already been removed.")
    return fresh


def _revoke_invitations_by(membership: Membership, *, actor: Actor) -> None:
    """Revoke what the member invited: an invitation works only while its creator is an admin (contract §9)."""
    creator = membership.user.get_username()
    stale = list(open_invitations_by(membership).select_for_update())
    Invitation.objects.filter(pk__in=[invitation.pk for invitation in stale]).update(revoked_at=timezone.now())
    for invitation in stale:
        record_member_event(
            organization=membership.organization,
            action=MemberEvent.Action.INVITATION_REVOKED,
            subject=invitation.email,
            actor=actor,
            changes={"reason": f"its creator {creator} is no longer an admin"},
        )


@transaction.atomic
def change_role(*, membership: Membership, role: str, actor: Actor) -> Membership:
    """Make a member an admin or a plain member; the organization's last admin stays an admin."""
    organization = membership.organization
    if role not in Membership.Role.values:
        raise ValidationError({"role": "Choose Admin or Member."})
    _lock(organization)
    _require_admin_now(actor, organization)
    membership = _fresh(membership)
    old = membership.role
    if old == role:
        return membership
    if old == Membership.Role.ADMIN and _admins_left(organization, without=membership) == 0:
        raise ValidationError(LAST_ADMIN, code="last_admin")
    if role != Membership.Role.ADMIN:
        _revoke_invitations_by(membership, actor=actor)
    membership.role = role
    membership.save(update_fields=["role"])
    record_member_event(
        organization=organization,
        action=MemberEvent.Action.ROLE_CHANGED,
        subject=membership.user.get_username(),
        actor=actor,
        changes={"role": [old, role]},
    )
    return membership


@transaction.atomic
def remove_member(*, membership: Membership, actor: Actor) -> None:
    """End a member's access to the organization from their next request; their account and applications stay."""
    organization = membership.organization
    _lock(organization)
    _require_admin_now(actor, organization)
    membership = _fresh(membership)
    if membership.is_admin and _admins_left(organization, without=membership) == 0:
        raise ValidationError(LAST_ADMIN, code="last_admin")
    _revoke_invitations_by(membership, actor=actor)
    membership.delete()
    record_member_event(
        organization=organization,
        action=MemberEvent.Action.REMOVED,
        subject=membership.user.get_username(),
        actor=actor,
        changes={"role": [membership.role, None]},
    )


class FormAlreadySubmitted(form_tokens.FormAlreadySubmitted):
    """The one-time form token already created an invitation (`earlier`, when in this organization); its link was
    shown then and cannot be shown again."""


def _refuse_spent_form_token(*, organization, form_token: str) -> None:
    form_tokens.refuse_spent_form_token(
        Invitation, organization=organization, form_token=form_token, error=FormAlreadySubmitted
    )


@transaction.atomic
def create_invitation(
    *, organization, email: str, role: str, actor: Actor, form_token: str | None = None
) -> tuple[Invitation, str]:
    """An invitation and the token of its link, returned here once; only the token's hash is stored.

    A pending invitation for the same email is replaced: its link stops working.
    """
    require_admin(actor, organization)
    if actor.membership is None:
        # It works only while its creator is an admin: an invitation with no admin behind it would never work.
        raise PermissionDenied("Invitations are created by an admin of the organization, signed in to the portal.")
    if form_token is not None:
        _refuse_spent_form_token(organization=organization, form_token=form_token)
    email = get_user_model().objects.normalize_email((email or "").strip())
    if not email:
        raise ValidationError({"email": "Enter an email address."})
    if role not in Membership.Role.values:
        raise ValidationError({"role": "Choose Admin or Member."})
    if Membership.objects.filter(organization=organization, user__email__iexact=email).exists():
        raise ValidationError({"email": f"{email} already belongs to a member of {organization.name}."})
    now = timezone.now()
    replaced = list(pending_invitations_for(organization).filter(email__iexact=email).select_for_update())
    for earlier in replaced:
        earlier.revoked_at = now
        earlier.save(update_fields=["revoked_at"])
        record_member_event(
            organization=organization,
            action=MemberEvent.Action.INVITATION_REVOKED,
            subject=earlier.email,
            actor=actor,
            changes={"reason": "replaced by a new invitation"},
        )
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        organization=organization,
        email=email,
        role=role,
        token_hash=Invitation.hash_token(token),
        form_token=form_token,
        invited_by=actor.user,
        expires_at=now + Invitation.LIFETIME,
    )
    form_tokens.insert_once(invitation, refuse_spent=_refuse_spent_form_token)
    record_member_event(
        organization=organization,
        action=MemberEvent.Action.INVITED,
        subject=email,
        actor=actor,
        changes={"role": [None, role]},
    )
    return invitation, token


@transaction.atomic
def revoke_invitation(*, invitation: Invitation, actor: Actor) -> None:
    """Make a pending invitation's link answer 404 from now on."""
    require_admin(actor, invitation.organization)
    revoked = Invitation.objects.filter(pk=invitation.pk, accepted_at=None, revoked_at=None).update(
        revoked_at=timezone.now()
    )
    if revoked:
        record_member_event(
            organization=invitation.organization,
            action=MemberEvent.Action.INVITATION_REVOKED,
            subject=invitation.email,
            actor=actor,
        )


def mail_invitation(*, invitation: Invitation, link: str) -> bool:
    """Mail the link when EMAIL_URL is set; False when it is not set or the mail could not be sent."""
    if not settings.INVITATION_EMAILS:
        return False
    inviter = invitation.invited_by.get_username() if invitation.invited_by else "An admin"
    body = (
        f"{inviter} invited you to join {invitation.organization.name} on the Integrations Portal "
        f"as {invitation.get_role_display().lower()}.\n\n"
        f"Open this link to create an account or join with the one you have:\n\n{link}\n\n"
        f"The link works once, until {invitation.expires_at:%d %b %Y %H:%M} UTC.\n"
    )
    try:
        send_mail(f"Join {invitation.organization.name} on the Integrations Portal", body, None, [invitation.email])
    except Exception as error:
        logger.warning("Could not mail invitation %s: %s", invitation.public_id, type(error).__name__)
        return False
    return True


class InvitationNotUsable(Exception):
    """The link is used, revoked, expired or unknown, or its creator is no longer an admin."""


def _claim(invitation: Invitation, user) -> None:
    # One conditional UPDATE: of two people opening the same link at once, one wins. Run under the organization's
    # lock, it sees a demotion or removal of the invitation's creator committed before it, never one half-done.
    claimed = usable_invitations().filter(pk=invitation.pk).update(accepted_at=timezone.now(), accepted_by=user)
    if not claimed:
        raise InvitationNotUsable()


def _join(invitation: Invitation, user, *, address: str | None) -> Membership:
    _lock(invitation.organization)
    _claim(invitation, user)
    membership = Membership.objects.create(user=user, organization=invitation.organization, role=invitation.role)
    record_member_event(
        organization=invitation.organization,
        action=MemberEvent.Action.JOINED,
        subject=user.get_username(),
        actor=Actor.for_member(membership, address),
        changes={"role": [None, invitation.role], "invitation": invitation.email},
    )
    return membership


class AlreadyMember(Exception):
    pass


@transaction.atomic
def accept_invitation(*, invitation: Invitation, user, address: str | None = None) -> Membership:
    """Make a signed-in user a member with the invited role; an existing member changes nothing."""
    if is_member(user=user, organization=invitation.organization):
        raise AlreadyMember()
    try:
        with transaction.atomic():
            return _join(invitation, user, address=address)
    except IntegrityError:
        # The same user joined through another link at the same moment.
        raise AlreadyMember()


@transaction.atomic
def create_account_and_join(*, invitation: Invitation, form, address: str | None = None) -> Membership:
    """Save a validated account form's user (email: the invitation's) and make it a member with the invited role.

    A username that is the same name as another user's (NFKC and case folding) is refused, as Django refuses one that
    differs only in ASCII case.
    """
    user = form.save(commit=False)
    user.email = invitation.email
    refuse_lookalike_username(user.get_username())
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        raise ValidationError({"username": USERNAME_TAKEN})
    return _join(invitation, user, address=address)


# --- Organizations -------------------------------------------------------------------------------------------


def refuse_lookalike_username(username: str, *, say_which: bool = False) -> None:
    """ValidationError when another user's name is the same name; call it in the transaction that creates the user.

    Account creations wait for each other here until the transaction ends, so two look-alike names at once cannot
    both pass: PostgreSQL takes an advisory lock; SQLite's IMMEDIATE transactions already serialize writers.
    """
    connection = connections[router.db_for_write(get_user_model())]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_USERNAMES_LOCK])
    existing = lookalike_username(username)
    if existing is not None:
        # The command line may name the account it found; a sign-up form names no other user.
        message = f"A user named {existing!r} already exists." if say_which else USERNAME_TAKEN
        raise ValidationError({"username": message})


def _unique_slug(name: str) -> str:
    base = slugify(name)[:180] or "organization"
    slug, n = base, 1
    while Organization.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic
def ensure_organization(*, name_or_slug: str) -> tuple[Organization, bool]:
    """The organization with this name or slug, created (named so) when there is none."""
    organization = find_organization(name_or_slug)
    if organization is not None:
        return organization, False
    return Organization.objects.create(name=name_or_slug, slug=_unique_slug(name_or_slug)), True


@transaction.atomic
def ensure_org_admin(*, organization: Organization, username: str, email: str, password: str | None):
    """Make the user exist and be an admin of the organization; running it again changes nothing else.

    The password is set when given, so a scripted set-up always knows the current one. A new name that is the same
    name as another user's (NFKC and case folding) is refused with a ValidationError.
    """
    User = get_user_model()
    user = User.objects.filter(username=username).first()
    created = user is None
    if created:
        # As Django's forms store it; a look-alike of another user's name would be a second account of one name.
        username = User.normalize_username(username)
        refuse_lookalike_username(username, say_which=True)
        user = User.objects.create(username=username, email=email)
    if email and user.email != email:
        user.email = email
        user.save(update_fields=["email"])
    if password:
        user.set_password(password)
        user.save(update_fields=["password"])
    membership, _ = Membership.objects.get_or_create(
        user=user, organization=organization, defaults={"role": Membership.Role.ADMIN}
    )
    if membership.role != Membership.Role.ADMIN:
        membership.role = Membership.Role.ADMIN
        membership.save(update_fields=["role"])
    return user, created
