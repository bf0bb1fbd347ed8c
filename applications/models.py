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

