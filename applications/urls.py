from django.urls import path

from applications import views

app_name = "applications"

urlpatterns = [
    path("applications/", views.list_view, name="list"),
    path("applications/new/", views.create_view, name="new"),
    path("applications/<uuid:public_id>/", views.detail_view, name="detail"),
    path("applications/<uuid:public_id>/delete/", views.delete_view, name="delete"),
    path("applications/<uuid:public_id>/networks/", views.networks_view, name="networks"),
    path("applications/<uuid:public_id>/suspend/", views.suspend_view, name="suspend"),
    path("applications/<uuid:public_id>/resume/", views.resume_view, name="resume"),
    path("applications/<uuid:public_id>/secrets/new/", views.rotate_view, name="rotate-secret"),
    path(
        "applications/<uuid:public_id>/secrets/<uuid:secret_id>/revoke/",
        views.revoke_secret_view,
        name="revoke-secret",
    ),
    path("applications/<uuid:public_id>/keys/new/", views.add_key_view, name="add-key"),
    path("applications/<uuid:public_id>/keys/generate/", views.generate_key_view, name="generate-key"),
    path("applications/<uuid:public_id>/keys/<uuid:key_id>/revoke/", views.revoke_key_view, name="revoke-key"),
    path(
        "applications/<uuid:public_id>/federated-credentials/new/",
        views.add_federated_credential_view,
        name="add-federated-credential",
    ),
    path(
        "applications/<uuid:public_id>/federated-credentials/<uuid:credential_id>/revoke/",
        views.revoke_federated_credential_view,
        name="revoke-federated-credential",
    ),
    path(
        "applications/<uuid:public_id>/federated-credentials/<uuid:credential_id>/test/",
        views.test_federated_credential_view,
        name="test-federated-credential",
    ),
    path("activity/", views.activity_view, name="activity"),
]
