import uuid

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from oauth2_provider.models import AbstractApplication

from portal.models import Organization


class Application(AbstractApplication):
    """A machine-to-machine client of one organization: confidential, client credentials only."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="applications")
    description = models.TextField(blank=True, max_length=1000)
    # Space-separated, in catalog order; fixed at creation.
    scopes = models.TextField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    # The one-time token of the portal form that created this row: a resubmitted form finds it
    # here, and the unique constraint settles two submissions racing each other.
    form_token = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)

    class Meta(AbstractApplication.Meta):
        constraints = [
            models.UniqueConstraint(
                "organization", Lower("name"), name="unique_application_name_per_organization"
            ),
        ]
        indexes = [models.Index(fields=["organization", "-created"], name="application_org_created")]

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()



class AuditEvent(models.Model):
    """Who did what to an application, when and from where. Outlives the application it names."""

    class Action(models.TextChoices):
        CREATED = "created", "Created"
        UPDATED = "updated", "Updated"
        DELETED = "deleted", "Deleted"
        LOCKED_OUT = "locked_out", "Token endpoint locked out"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="audit_events")
    application = models.ForeignKey(
        Application, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_events"
    )
    # Copies, so the record still names the application after it is deleted.
    application_public_id = models.UUIDField()
    application_name = models.CharField(max_length=255)
    action = models.CharField(max_length=16, choices=Action.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    actor_label = models.CharField(max_length=255)
    address = models.GenericIPAddressField(null=True, blank=True)
    # {"field": [old, new]} for updates.
    changes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "-created_at"], name="audit_org_created"),
            models.Index(fields=["application_public_id", "-created_at"], name="audit_application_created"),
        ]

    def __str__(self):
        return f"{self.application_name} {self.action} by {self.actor_label}"
