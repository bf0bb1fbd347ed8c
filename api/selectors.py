from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from api.models import Credential


def credentials_for(organization) -> QuerySet[Credential]:
    """The organization's credentials, newest first. Tenant scoping happens here and nowhere else."""
    return Credential.objects.filter(organization=organization).order_by("-created_at", "-id")


def get_credential(*, organization, public_id) -> Credential:
    """The organization's credential, or Http404, also for another organization's credential."""
    return get_object_or_404(credentials_for(organization), public_id=public_id)
