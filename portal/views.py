from urllib.parse import urlsplit

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.views import defaults
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from portal.forms import SignInForm
from portal.selectors import SESSION_ORGANIZATION_KEY, memberships_for


class SignInView(auth_views.LoginView):
    form_class = SignInForm
    redirect_authenticated_user = True

    def get_redirect_url(self):
        # `next` naming this very page would send a signed-in user in a loop, which Django
        # answers with a 500: such a `next` is ignored and the default page used instead.
        url = super().get_redirect_url()
        return "" if url and urlsplit(url).path == self.request.path else url


def home_view(request):
    return redirect("applications:list" if request.user.is_authenticated else "login")


@login_required
@require_POST
def switch_organization_view(request):
    membership = get_object_or_404(memberships_for(request.user), organization__slug=request.POST.get("organization"))
    request.session[SESSION_ORGANIZATION_KEY] = membership.organization_id
    # Back to the list: the page the user was on may belong to the other organization.
    return redirect("applications:list")


def _answers_json(request) -> bool:
    # The API and the token endpoint speak JSON even when Django itself refuses a request.
    return request.path == "/api" or request.path.startswith(("/api/", "/oauth/"))


def bad_request_view(request, exception):
    if _answers_json(request):
        return JsonResponse({"detail": "Bad request."}, status=400)
    return defaults.bad_request(request, exception)


def page_not_found_view(request, exception):
    if _answers_json(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)


def server_error_view(request):
    if _answers_json(request):
        return JsonResponse({"detail": "Server error."}, status=500)
    return defaults.server_error(request)
