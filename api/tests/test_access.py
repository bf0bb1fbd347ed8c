"""Every operation against every kind of caller: RFC 6750 errors, scopes, tenants."""

import json
from dataclasses import replace
from datetime import timedelta

import pytest
from django.utils import timezone

from api.examples import VERIFIABLE_CREDENTIAL
from api.models import Credential
from api.tests.helpers import ALL_SCOPES, OPERATIONS, access_token_row, bearer
from applications.models import Application, ClientSecret
from applications.services import add_federated_credential, add_key, rotate_secret
from applications.tests.issuer_helpers import SUBJECT
from applications.tests.key_helpers import private_key, public_pem
from portal.actors import COMMAND_LINE

DETAIL_OPERATIONS = [operation for operation in OPERATIONS if "{" in operation.path]


def federated_credential(application, issuer):
    return add_federated_credential(
        application=application, actor=COMMAND_LINE, name="CI", issuer=issuer, subject=SUBJECT, audience="aud"
    )


@pytest.fixture
def targets(make_application, make_credential, issuer):
    """A credential and an application of the organization for the detail operations to act on.

    The applications' scopes are among those of a caller holding update:applications alone: the no-escalation
    rule lets such a caller change their secrets.
    """
    application, _ = make_application(name="Target", scopes=["update:applications"])
    # An application with two live secrets, so that one of them may be revoked.
    rotated, _ = make_application(name="Rotated", scopes=["update:applications"])
    first = rotated.secrets.get()
    rotate_secret(application=rotated, actor=COMMAND_LINE)
    # A key beside the application's secret, so that it may be revoked.
    key = add_key(application=application, actor=COMMAND_LINE, public_key=public_pem(private_key()))
    # And a federated credential (the local issuer's) beside them, for the same reason.
    federated = federated_credential(application, issuer.url)
    return {
        "credential": make_credential().public_id,
        "application": application.public_id,
        "rotated": rotated.public_id,
        "secret": first.public_id,
        "key": key.public_id,
        "federated": federated.public_id,
        "issuer": issuer.url,
    }


def call(client, operation, targets, token=None, **extra):
    headers = bearer(token) if token else {}
    body = json.dumps(operation.body) if operation.body is not None else None
    if body is not None:
        body = body.replace("{issuer}", str(targets.get("issuer", "https://issuer.example")))
    return client.generic(
        operation.method,
        operation.path.format(**targets),
        body or "",
        content_type="application/json",
        **headers,
        **extra,
    )


def assert_json(response):
    assert response["Content-Type"] == "application/json"
    return response.json()


@pytest.mark.parametrize("operation", OPERATIONS, ids=str)
def test_the_operations_scope_alone_is_enough(client, token_with, targets, operation):
    response = call(client, operation, targets, token_with(operation.scope))
    assert response.status_code == operation.status, response.content
    if operation.status != 204:
        assert_json(response)
    else:
        assert response.content == b""


@pytest.mark.parametrize("operation", OPERATIONS, ids=str)
def test_a_token_without_the_scope_gets_403_insufficient_scope(client, token_with, targets, operation):
    others = [scope for scope in ALL_SCOPES if scope != operation.scope]
    response = call(client, operation, targets, token_with(*others))
    assert response.status_code == 403
    assert response["WWW-Authenticate"] == f'Bearer error="insufficient_scope", scope="{operation.scope}"'
    assert operation.scope in assert_json(response)["detail"]


@pytest.mark.parametrize("operation", OPERATIONS, ids=str)
def test_no_token_gets_401_with_a_challenge_and_no_error(client, targets, operation):
    response = call(client, operation, targets)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert_json(response)


@pytest.mark.parametrize("operation", OPERATIONS, ids=str)
@pytest.mark.parametrize("kind", ["garbage", "expired", "revoked"])
def test_an_unusable_token_gets_401_invalid_token(client, full_token, targets, operation, kind):
    token = full_token
    if kind == "garbage":
        token = "not-a-token"
    elif kind == "expired":
        row = access_token_row(token)
        row.expires = timezone.now() - timedelta(seconds=1)
        row.save(update_fields=["expires"])
    else:
        access_token_row(token).revoke()
    response = call(client, operation, targets, token)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api", error="invalid_token"'
    assert_json(response)


@pytest.mark.parametrize("operation", DETAIL_OPERATIONS, ids=str)
def test_another_organizations_object_is_404(
    client, full_token, other_organization, make_application, make_credential, issuer, operation
):
    application, _ = make_application(name="Theirs", scopes=["read:credentials"], organization=other_organization)
    secret = application.secrets.get()
    rotate_secret(application=application, actor=COMMAND_LINE, keep_current_for=None)
    credential = make_credential(organization=other_organization)
    key = add_key(application=application, actor=COMMAND_LINE, public_key=public_pem(private_key()))
    federated = federated_credential(application, issuer.url)
    targets = {
        "credential": credential.public_id,
        "application": application.public_id,
        "rotated": application.public_id,
        "secret": secret.public_id,
        "key": key.public_id,
        "federated": federated.public_id,
        "issuer": issuer.url,
    }
    response = call(client, operation, targets, full_token)
    assert response.status_code == 404
    assert_json(response)
    assert Credential.objects.filter(pk=credential.pk, visibility="private").exists()
    assert Application.objects.filter(pk=application.pk, description="").exists()
    assert application.secrets.filter(revoked_at__isnull=True).count() == 2
    assert list(application.keys.values_list("revoked_at", flat=True)) == [None]
    assert list(application.federated_credentials.values_list("revoked_at", flat=True)) == [None]


@pytest.mark.parametrize("operation", DETAIL_OPERATIONS, ids=str)
def test_an_unknown_id_is_404(client, full_token, operation):
    unknown = "00000000-0000-4000-8000-000000000000"
    targets = dict.fromkeys(["credential", "application", "rotated", "secret", "key", "federated"], unknown)
    response = call(client, operation, targets, full_token)
    assert response.status_code == 404
    assert_json(response)


@pytest.mark.parametrize("operation", OPERATIONS, ids=str)
def test_a_repeated_query_parameter_is_400_naming_it_and_nothing_changes(client, full_token, targets, operation):
    def state():
        return (
            list(Credential.objects.values_list("pk", "visibility")),
            list(Application.objects.values_list("pk", "name", "description", "token_lifetime")),
            list(ClientSecret.objects.values_list("pk", "expires_at", "revoked_at")),
        )

    before = state()
    repeated = replace(operation, path=f"{operation.path}?page_size=5&page=1&page_size=50")
    response = call(client, repeated, targets, full_token)
    assert response.status_code == 400
    assert assert_json(response) == {"page_size": ["Give this parameter only once."]}
    assert state() == before


def test_lists_never_show_another_organizations_objects(
    client, full_token, other_organization, make_application, make_credential
):
    mine = make_credential()
    make_credential(organization=other_organization)
    make_application(name="Theirs", scopes=["read:credentials"], organization=other_organization)

    credentials = client.get("/api/credentials", **bearer(full_token)).json()
    assert credentials["count"] == 1
    assert [item["id"] for item in credentials["results"]] == [str(mine.public_id)]

    applications = client.get("/api/applications", **bearer(full_token)).json()
    assert [item["name"] for item in applications["results"]] == ["Client 1"]


def test_the_organization_is_the_tokens_own(client, token_with, organization, other_organization):
    theirs = token_with("read:organizations", organization=other_organization)
    assert client.get("/api/organization", **bearer(theirs)).json()["id"] == str(other_organization.public_id)


def test_a_deleted_applications_tokens_fail_on_the_very_next_request(client, token_with, make_application, get_token):
    application, secret = make_application(name="Doomed", scopes=["read:credentials", "delete:applications"])
    token = get_token(application, secret)
    assert client.get("/api/credentials", **bearer(token)).status_code == 200

    other = token_with("delete:applications")
    assert client.delete(f"/api/applications/{application.public_id}", **bearer(other)).status_code == 204

    response = client.get("/api/credentials", **bearer(token))
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api", error="invalid_token"'


def test_an_application_deleting_itself_loses_its_token_at_once(client, make_application, get_token):
    application, secret = make_application(name="Self", scopes=["delete:applications", "read:organizations"])
    token = get_token(application, secret)
    assert client.delete(f"/api/applications/{application.public_id}", **bearer(token)).status_code == 204
    assert client.get("/api/organization", **bearer(token)).status_code == 401


def test_a_token_in_the_query_string_does_not_authenticate(client, full_token):
    response = client.get(f"/api/credentials?access_token={full_token}")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_a_token_in_the_body_does_not_authenticate(client, full_token):
    response = client.post(
        "/api/credentials",
        {"access_token": full_token, "verifiableCredential": VERIFIABLE_CREDENTIAL},
        content_type="application/json",
    )
    assert response.status_code == 401
    form = client.post(
        "/api/credentials", f"access_token={full_token}", content_type="application/x-www-form-urlencoded"
    )
    assert form.status_code == 401
    assert not Credential.objects.exists()


@pytest.mark.parametrize(
    "authorization",
    ["Basic dXNlcjpwYXNz", "Token abc", "Bearer", "Bearer ", "Bearer a b", "bearer\tx", "Bearer \x00"],
)
def test_other_or_malformed_authorization_headers_get_401(db, client, authorization):
    response = client.get("/api/credentials", HTTP_AUTHORIZATION=authorization)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith('Bearer realm="api"')
    assert_json(response)


def test_the_scheme_name_is_case_insensitive(client, full_token):
    assert client.get("/api/credentials", HTTP_AUTHORIZATION=f"bearer {full_token}").status_code == 200


def test_a_session_does_not_authenticate_the_api(client, admin_user):
    client.force_login(admin_user)
    assert client.get("/api/credentials").status_code == 401


def test_using_a_token_records_the_applications_last_use(client, make_application, get_token):
    application, secret = make_application(name="Recorded", scopes=["read:credentials"])
    token = get_token(application, secret)
    Application.objects.filter(pk=application.pk).update(last_used_at=None)
    client.get("/api/credentials", **bearer(token))
    application.refresh_from_db()
    assert application.last_used_at is not None
    first = application.last_used_at
    client.get("/api/credentials", **bearer(token))
    application.refresh_from_db()
    assert application.last_used_at == first  # at most one write a minute


def test_a_request_costs_one_query_for_the_token_and_the_views_own(
    client, full_token, make_credential, django_assert_num_queries
):
    for _ in range(5):
        make_credential()
    # The token with its application and organization; the page with the count.
    with django_assert_num_queries(2):
        assert client.get("/api/credentials", **bearer(full_token)).status_code == 200
    with django_assert_num_queries(1):
        assert client.get("/api/organization", **bearer(full_token)).status_code == 200


@pytest.mark.parametrize(
    ("resource", "status"), [("http://testserver/api", 200), ("https://elsewhere.example/api", 401)]
)
def test_a_token_issued_for_another_resource_is_refused(client, make_application, get_token, resource, status):
    application, secret = make_application(name="Indicated", scopes=["read:credentials"])
    token = get_token(application, secret, resource=resource)
    assert access_token_row(token).resource == [resource]
    assert client.get("/api/credentials", **bearer(token)).status_code == status
