from django.urls import path

from applications import views

app_name = "applications"

urlpatterns = [
    path("", views.list_view, name="list"),
]
