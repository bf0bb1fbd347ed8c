from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from applications.models import Application, AuditEvent


def applications_for(organization) -> QuerySet[Application]:
    """The organization's applications, newest first. Tenant scoping happens here and nowhere else."""
    return Application.objects.filter(organization=organization).select_related("created_by").order_by("-created", "-id")


def get_application(*, organization, public_id) -> Application:
    """The organization's application, or Http404, also for another organization's application."""
    return get_object_or_404(applications_for(organization), public_id=public_id)


def audit_events_for(organization) -> QuerySet[AuditEvent]:
    """The organization's audit trail, newest first, including deleted applications' records."""
    return AuditEvent.objects.filter(organization=organization).select_related("actor")


def audit_events_for_application(application) -> QuerySet[AuditEvent]:
    return audit_events_for(application.organization_id).filter(application_public_id=application.public_id)
