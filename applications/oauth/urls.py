from django.urls import path

from applications.oauth import views

# Included at oauth/ without a namespace: "oauth-token" is the name the schema and the downloads reverse.
urlpatterns = [
    path("token", views.token_view, name="oauth-token"),
]
