import uuid

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


class FailureCounter(models.Model):
    """Failed authentications of one subject under one limit, in a window fixed when it starts (portal.throttle).

    A table of its own rather than the cache: no cache culling or eviction can drop a
    counter before its window ends, and one upsert increments it atomically.
    """

    # SHA-256 of the limit's name and the subject (an address, a client ID with an address…).
    key = models.CharField(max_length=64, primary_key=True)
    # Failures counted in the window, plus attempts being answered right now.
    failures = models.IntegerField()
    # The window's end, in seconds since the epoch; set when the window starts and never moved.
    expires_at = models.FloatField(db_index=True)
