from django.urls import path

from applications import views

app_name = "applications"

urlpatterns = [
    path("", views.list_view, name="list"),
    path("new/", views.create_view, name="new"),
    path("<uuid:public_id>/", views.detail_view, name="detail"),
    path("<uuid:public_id>/delete/", views.delete_view, name="delete"),
]
