from django.test import RequestFactory

from ops.errors import server_error_view


def test_a_bad_host_on_the_api_is_a_json_400(client):
    response = client.get("/api/credentials", HTTP_HOST="evil.example")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"


def test_a_bad_host_on_the_token_endpoint_is_a_json_400(client):
    response = client.post(
        "/oauth/token",
        "grant_type=client_credentials",
        content_type="application/x-www-form-urlencoded",
        HTTP_HOST="evil.example",
    )

    assert response.status_code == 400
    assert response.json() == {"detail": "Bad request."}


def test_an_unknown_portal_page_is_an_html_404(client, db):
    response = client.get("/nowhere/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_a_server_error_on_the_api_answers_json_and_on_pages_html(db):
    api = server_error_view(RequestFactory().get("/api/credentials"))
    page = server_error_view(RequestFactory().get("/integrations/applications/"))

    assert (api.status_code, api["Content-Type"]) == (500, "application/json")
    assert (page.status_code, page["Content-Type"].split(";")[0]) == (500, "text/html")
