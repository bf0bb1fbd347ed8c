from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from portal.selectors import SESSION_ORGANIZATION_KEY, memberships_for


def home_view(request):
    return redirect("applications:list" if request.user.is_authenticated else "login")


@login_required
@require_POST
def switch_organization_view(request):
    membership = get_object_or_404(memberships_for(request.user), organization__slug=request.POST.get("organization"))
    request.session[SESSION_ORGANIZATION_KEY] = membership.organization_id
    # Back to the list: the page the user was on may belong to the other organization.
    return redirect("applications:list")
