from django.conf import settings
from django.contrib.auth import views as auth_views
from django.urls import include, path

from portal import views

urlpatterns = [
    path("", views.home_view, name="home"),
    path("accounts/login/", views.SignInView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("organizations/switch/", views.switch_organization_view, name="switch-organization"),
    path("integrations/", include("applications.urls")),
    path("oauth/", include("applications.oauth.urls")),
    path("api/", include("api.urls")),
]

if settings.BENCHMARK_VIEWS:
    urlpatterns.append(path("bench/", include("bench.urls")))

handler400 = "portal.views.bad_request_view"
handler404 = "portal.views.page_not_found_view"
handler500 = "portal.views.server_error_view"
