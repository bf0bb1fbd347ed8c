from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from applications.models import Application


def applications_for(organization) -> QuerySet[Application]:
    """The organization's applications, newest first. Tenant scoping happens here and nowhere else."""
    return Application.objects.filter(organization=organization).select_related("created_by").order_by("-created", "-id")


def get_application(*, organization, public_id) -> Application:
    """The organization's application, or Http404, also for another organization's application."""
    return get_object_or_404(applications_for(organization), public_id=public_id)
