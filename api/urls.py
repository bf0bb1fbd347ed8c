from django.urls import path, re_path
from django.views.generic import RedirectView
from drf_spectacular.renderers import OpenApiJsonRenderer, OpenApiJsonRenderer2, OpenApiYamlRenderer
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from api import views

app_name = "api"

# The contract's URLs carry no trailing slash; the schema and docs pages do.
urlpatterns = [
    # The API's root names its base URL for the downloads; like any path naming no operation, it answers 404.
    path("", views.not_found_view, name="root"),
    path("credentials", views.CredentialListApi.as_view(), name="credentials"),
    path("credentials/<uuid:public_id>", views.CredentialDetailApi.as_view(), name="credential"),
    path("applications", views.ApplicationListApi.as_view(), name="applications"),
    path("applications/<uuid:public_id>", views.ApplicationDetailApi.as_view(), name="application"),
    path("applications/<uuid:public_id>/secrets", views.SecretCreateApi.as_view(), name="application-secrets"),
    path(
        "applications/<uuid:public_id>/secrets/<uuid:secret_id>",
        views.SecretDetailApi.as_view(),
        name="application-secret",
    ),
    path("applications/<uuid:public_id>/keys", views.KeyCreateApi.as_view(), name="application-keys"),
    path("applications/<uuid:public_id>/keys/<uuid:key_id>", views.KeyDetailApi.as_view(), name="application-key"),
    path(
        "applications/<uuid:public_id>/federated-credentials",
        views.FederatedCredentialCreateApi.as_view(),
        name="application-federated-credentials",
    ),
    path(
        "applications/<uuid:public_id>/federated-credentials/<uuid:credential_id>",
        views.FederatedCredentialDetailApi.as_view(),
        name="application-federated-credential",
    ),
    path("organization", views.OrganizationDetailApi.as_view(), name="organization"),
    path(
        "schema/",
        SpectacularAPIView.as_view(
            # application/json unless YAML is asked for (?format=yaml or an Accept header naming it).
            renderer_classes=[OpenApiJsonRenderer2, OpenApiJsonRenderer, OpenApiYamlRenderer],
            authentication_classes=[],
            permission_classes=[views.AllowAny],
        ),
        name="schema",
    ),
    path(
        "docs/",
        # The split view serves its start-up script as a file: the Content-Security-Policy allows no inline script.
        SpectacularSwaggerSplitView.as_view(
            url_name="api:schema",
            template_name="api/swagger_ui.html",
            authentication_classes=[],
            permission_classes=[views.AllowAny],
        ),
        name="docs",
    ),
    path("schema", RedirectView.as_view(pattern_name="api:schema", query_string=True)),
    path("docs", RedirectView.as_view(pattern_name="api:docs")),
    path("postman-collection.json", views.PostmanCollectionApi.as_view(), name="postman-collection"),
    re_path(r"^.*$", views.not_found_view),
]
