"""Contract §11's suspension: every credential refused at the three OAuth endpoints, every token at the API;
nothing deleted, and on resuming the tokens that have not expired work again."""

from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.utils import timezone
from oauth2_provider.models import AccessToken

from api.tests.helpers import access_token_row, bearer
from applications.models import AuditEvent, ClientSecret
from applications.services import update_application
from applications.tests.oauth_helpers import FORM, basic_auth
from portal.actors import COMMAND_LINE

ENDPOINTS = ["/oauth/token", "/oauth/revoke", "/oauth/introspect"]


def suspend(application, suspended=True):
    return update_application(application=application, actor=COMMAND_LINE, suspended=suspended)


def call(client, path, application, secret, *, in_body=False, token="ipat_unknown"):
    fields = {"grant_type": "client_credentials", "token": token}
    headers = {}
    if in_body:
        fields.update(client_id=application.client_id, client_secret=secret)
    else:
        headers["HTTP_AUTHORIZATION"] = basic_auth(application.client_id, secret)
    return client.post(path, urlencode(fields), content_type=FORM, **headers)


@pytest.mark.parametrize("in_body", [False, True], ids=["basic", "body"])
@pytest.mark.parametrize("path", ENDPOINTS)
def test_a_suspended_application_is_invalid_client_at_every_endpoint(client, make_application, path, in_body):
    application, secret = make_application()
    suspend(application)

    response = call(client, path, application, secret, in_body=in_body)

    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"] == "invalid_client"
    suspend(application, False)
    assert call(client, path, application, secret, in_body=in_body).status_code == 200


def test_its_tokens_are_refused_while_suspended_and_work_again_on_resuming(client, make_application, get_token):
    application, secret = make_application()
    tokens = [get_token(application, secret) for _ in range(2)]
    bystander, bystander_secret = make_application(name="Bystander")
    bystanders_token = get_token(bystander, bystander_secret)
    # One of them expires while the application is suspended: resuming does not bring it back.
    expiring = access_token_row(tokens[1])
    before = (AccessToken.objects.count(), ClientSecret.objects.count())

    suspend(application)

    for token in tokens:
        refused = client.get("/api/credentials", **bearer(token))
        assert refused.status_code == 401
        assert refused["WWW-Authenticate"] == 'Bearer realm="api", error="invalid_token"'
    assert client.get("/api/credentials", **bearer(bystanders_token)).status_code == 200
    # Nothing is deleted: the tokens and secrets are all still there.
    assert (AccessToken.objects.count(), ClientSecret.objects.count()) == before

    AccessToken.objects.filter(pk=expiring.pk).update(expires=timezone.now() - timedelta(seconds=1))
    suspend(application, False)

    assert client.get("/api/credentials", **bearer(tokens[0])).status_code == 200
    assert client.get("/api/credentials", **bearer(tokens[1])).status_code == 401


def test_suspending_and_resuming_are_in_activity_once_each(make_application):
    application, _ = make_application()

    suspend(application)
    suspend(application)  # already suspended: nothing changes, nothing is recorded
    suspend(application, False)

    actions = list(
        AuditEvent.objects.filter(application=application).exclude(action="created").values_list("action", flat=True)
    )
    assert sorted(actions) == ["resumed", "suspended"]
    application.refresh_from_db()
    assert application.suspended is False


def test_introspection_of_its_token_by_a_suspended_application_is_refused(client, make_application, get_token):
    application, secret = make_application()
    token = get_token(application, secret)
    suspend(application)

    response = call(client, "/oauth/introspect", application, secret, token=token)

    assert response.status_code == 401 and "active" not in response.json()
