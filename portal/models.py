import hashlib
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models


class Organization(models.Model):
    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=200, unique=True)
    # The stable public identifier handed out as ORGANIZATION_ID.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Membership(models.Model):
    class Role(models.TextChoices):
        ADMIN = "admin", "Admin"
        MEMBER = "member", "Member"

    # Names a member in URLs: ids that reveal nothing about other organizations' rows.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "organization"], name="unique_membership")]

    def __str__(self):
        return f"{self.user} in {self.organization} ({self.role})"

    @property
    def is_admin(self) -> bool:
        return self.role == self.Role.ADMIN


class Invitation(models.Model):
    """A one-time link that makes whoever opens it a member of the organization with `role`.

    Only the SHA-256 of the link's token is stored: the token is random, so no salt or slow hash is needed.
    """

    LIFETIME = timedelta(days=7)

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=16, choices=Membership.Role.choices, default=Membership.Role.MEMBER)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    # The one-time token of the form that created this row, as for applications.
    form_token = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.email} to {self.organization} ({self.role})"

    @staticmethod
    def hash_token(token: str) -> str:
        return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


class ActivityEvent(models.Model):
    """Who did it, from where and when: the part of an Activity page record that every kind of event shares."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=255)
    address = models.GenericIPAddressField(null=True, blank=True)
    # What changed, as {"field": [old, new]}; each kind of event says which fields it records.
    changes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["-created_at", "-id"]


class MemberEvent(ActivityEvent):
    """Who invited, admitted, promoted, demoted or removed whom, when and from where.

    Shown with the applications' AuditEvents on the organization's Activity page.
    """

    class Action(models.TextChoices):
        INVITED = "invited", "Invitation created"
        INVITATION_REVOKED = "invitation_revoked", "Invitation revoked"
        JOINED = "joined", "Joined"
        ROLE_CHANGED = "role_changed", "Role changed"
        REMOVED = "removed", "Removed"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="member_events")
    action = models.CharField(max_length=32, choices=Action.choices)
    # A copy (the invitation's email or the member's username): the record outlives the row it names.
    subject = models.CharField(max_length=255)
    # changes: {"role": [old, new]} for role changes, {"role": [None, role]} for invitations and joins,
    # {"reason": "…"} for invitations revoked by something other than an admin's Revoke.

    class Meta(ActivityEvent.Meta):
        indexes = [models.Index(fields=["organization", "-created_at"], name="member_event_org_created")]

    def __str__(self):
        return f"{self.subject} {self.action} by {self.actor_label}"

    # The Activity page lists these beside applications' AuditEvents.
    is_member_event = True
