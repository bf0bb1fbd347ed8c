from django.shortcuts import render
from django.views.decorators.http import require_GET

from applications.selectors import applications_for
from portal.decorators import member_required


@require_GET
@member_required
def list_view(request):
    applications = applications_for(request.membership.organization)
    return render(request, "applications/list.html", {"applications": applications})
