import uuid

from django.db import models
from django.utils import timezone

from portal.models import Organization


class Credential(models.Model):
    """A W3C Verifiable Credential document stored for one organization."""

    class Visibility(models.TextChoices):
        PRIVATE = "private", "Private"
        PUBLIC = "public", "Public"

    # The composite index below leads with the organization, so a separate one would be redundant.
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="credentials", db_index=False)
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    document = models.JSONField()
    visibility = models.CharField(max_length=16, choices=Visibility.choices, default=Visibility.PRIVATE)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # Deleting an application never deletes the organization's data: the link is only cleared.
    created_by_application = models.ForeignKey(
        "applications.Application", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        # Serves both the organization's newest-first page and its count.
        indexes = [models.Index(fields=["organization", "-created_at", "-id"], name="credential_org_newest")]

    def __str__(self):
        return str(self.public_id)
