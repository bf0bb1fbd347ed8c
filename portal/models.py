import hashlib
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django_otp.models import Device, TimestampMixin


class Organization(models.Model):
    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=200, unique=True)
    # The stable public identifier handed out as ORGANIZATION_ID.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    # While on, a member without a second factor is sent to /accounts/security/ by the organization's pages (§13).
    # db_default too: code that knows an older schema (a data migration, say) still inserts organizations.
    require_two_factor = models.BooleanField(default=False, db_default=False)

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

    def details(self) -> list[tuple[str, str]]:
        """What the Activity page shows beside the action, as (kind, text): "code" and "inline" follow it on its
        line, "note" and "value" (a long one, which may wrap anywhere) each take a line of their own."""
        return []

    @staticmethod
    def _tokens_revoked(changes: dict) -> list[tuple[str, str]]:
        count = changes.get("tokens_revoked")
        if not count and count != 0:
            return []
        return [("note", f"with {count} access token{'' if count == 1 else 's'}")]


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
        TWO_FACTOR_ADDED = "two_factor_added", "Second factor added"
        TWO_FACTOR_REMOVED = "two_factor_removed", "Second factor removed"
        RECOVERY_CODE_USED = "recovery_code_used", "Recovery code used"
        RECOVERY_CODES_REGENERATED = "recovery_codes_regenerated", "Recovery codes regenerated"
        TWO_FACTOR_REQUIRED = "two_factor_required", "Two-factor sign-in required"
        TWO_FACTOR_NOT_REQUIRED = "two_factor_not_required", "Two-factor sign-in no longer required"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="member_events")
    action = models.CharField(max_length=32, choices=Action.choices)
    # A copy (the invitation's email or the member's username): the record outlives the row it names.
    subject = models.CharField(max_length=255)
    # changes: {"role": [old, new]} for role changes, {"role": [None, role]} for invitations and joins,
    # {"reason": "…"} for invitations revoked by something other than an admin's Revoke,
    # {"factor": "…"} for second factors added or removed.

    class Meta(ActivityEvent.Meta):
        indexes = [models.Index(fields=["organization", "-created_at"], name="member_event_org_created")]

    def __str__(self):
        return f"{self.subject} {self.action} by {self.actor_label}"

    # The Activity page lists these beside applications' AuditEvents.
    is_member_event = True

    def details(self) -> list[tuple[str, str]]:
        details = []
        role = self.changes.get("role")
        if self.action == self.Action.ROLE_CHANGED and role:
            details.append(("note", f"role: “{role[0]}” → “{role[1]}”"))
        elif role and role[1]:
            details.append(("note", f"role: {role[1]}"))
        details += [("note", self.changes[field]) for field in ("reason", "factor") if self.changes.get(field)]
        return details


class AuthenticatorApp(TimestampMixin, Device):
    """A user's authenticator app (TOTP, RFC 6238: SHA-1, 6 digits, 30 seconds); at most one per user.

    Checking a code needs the secret itself, so it is kept encrypted with a key derived from SECRET_KEY
    (portal/crypto.py): the table, a backup or a dump of it holds no usable secret.
    """

    encrypted_secret = models.TextField(editable=False)
    # The time step of the last code accepted: each code works once, and no code of an earlier step works after it.
    last_step = models.BigIntegerField(default=-1, editable=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user"], name="one_authenticator_app_per_user")]

    def __str__(self):
        return f"the authenticator app of {self.user}"


class RecoveryCode(models.Model):
    """One of a user's ten one-time recovery codes; only its SHA-256 is stored (the code is random, 80 bits)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="recovery_codes")
    code_hash = models.CharField(max_length=64, editable=False)
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "code_hash"], name="unique_recovery_code")]

    def __str__(self):
        return f"a recovery code of {self.user}"

    @staticmethod
    def hash_code(code: str) -> str:
        return hashlib.sha256(code.encode("utf-8", "surrogatepass")).hexdigest()
