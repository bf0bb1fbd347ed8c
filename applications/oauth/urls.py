from django.urls import path

from applications.oauth import views

# Included at oauth/ without a namespace: "oauth-token" is the name the schema and the downloads reverse.
urlpatterns = [
    path("token", views.token_view, name="oauth-token"),
    path("revoke", views.revoke_view, name="oauth-revoke"),
    path("introspect", views.introspect_view, name="oauth-introspect"),
]
