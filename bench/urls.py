from django.urls import path

from bench import views

app_name = "bench"

urlpatterns = [
    path("ping", views.PingApi.as_view(), name="ping"),
    path("credentials", views.OpenCredentialListApi.as_view(), name="credentials"),
    path("stock", views.StockToolkitApi.as_view(), name="stock"),
]
