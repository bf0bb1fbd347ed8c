"""The root URLconf: the one module that names every app's URLs."""

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.urls import include, path

from applications import secret_scanning
from applications.oauth.discovery import metadata_view
from ops import health, metrics
from portal import views

member_patterns = [
    path("", views.members_view, name="list"),
    path("invite/", views.invite_view, name="invite"),
    path("<uuid:public_id>/role/", views.change_role_view, name="role"),
    path("<uuid:public_id>/remove/", views.remove_view, name="remove"),
    path("invitations/<uuid:public_id>/revoke/", views.revoke_invitation_view, name="revoke-invitation"),
]

urlpatterns = [
    path("", views.home_view, name="home"),
    path("accounts/login/", views.SignInView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", views.PasswordChangeView.as_view(), name="password-change"),
    path("accounts/verify/", views.second_step_view, name="second-step"),
    path("accounts/security/", views.security_view, name="account-security"),
    path("accounts/security/authenticator/", views.add_authenticator_app_view, name="add-authenticator-app"),
    path(
        "accounts/security/authenticator/remove/",
        views.remove_authenticator_app_view,
        name="remove-authenticator-app",
    ),
    path("accounts/security/passkeys/", views.add_passkey_view, name="add-passkey"),
    path("accounts/security/passkeys/<int:pk>/remove/", views.remove_passkey_view, name="remove-passkey"),
    path("accounts/security/recovery-codes/", views.recovery_codes_view, name="recovery-codes"),
    path("accounts/password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password-change-done"),
    path("organizations/switch/", views.switch_organization_view, name="switch-organization"),
    path("integrations/", include("applications.urls")),
    path("organization/members/", include((member_patterns, "members"))),
    path("organization/security/", views.organization_security_view, name="organization-security"),
    path("invitations/<str:token>/", views.invitation_view, name="invitation"),
    path("oauth/", include("applications.oauth.urls")),
    path(".well-known/oauth-authorization-server", metadata_view, name="oauth-metadata"),
    path("secret-scanning/github", secret_scanning.github_view, name="secret-scanning-github"),
    path("api/", include("api.urls")),
    path("healthz", health.healthz_view, name="healthz"),
    path("readyz", health.readyz_view, name="readyz"),
    path("metrics", metrics.metrics_view, name="metrics"),
]

if settings.BENCHMARK_VIEWS:
    urlpatterns.append(path("bench/", include("bench.urls")))

handler400 = "ops.errors.bad_request_view"
handler404 = "ops.errors.page_not_found_view"
handler500 = "ops.errors.server_error_view"
