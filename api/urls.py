from django.urls import path

from api import views

app_name = "api"

urlpatterns = [
    path("postman-collection.json", views.postman_collection_view, name="postman-collection"),
]
