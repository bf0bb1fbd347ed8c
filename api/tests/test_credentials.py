import copy
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from api.examples import VERIFIABLE_CREDENTIAL
from api.models import Credential
from api.tests.helpers import bearer


@pytest.fixture
def token(token_with):
    return token_with("read:credentials", "create:credentials", "update:credentials", "delete:credentials")


def post(client, token, body, **kwargs):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post(
        "/api/credentials", data, content_type=kwargs.pop("content_type", "application/json"), **bearer(token), **kwargs
    )


def credential_with(**changes):
    document = copy.deepcopy(VERIFIABLE_CREDENTIAL)
    for key, value in changes.items():
        if value is None:
            document.pop(key)
        else:
            document[key] = value
    return {"verifiableCredential": document}


def test_a_stored_credential_comes_back_as_sent(client, token, organization):
    response = post(client, token, {"verifiableCredential": VERIFIABLE_CREDENTIAL, "visibility": "public"})
    assert response.status_code == 201
    body = response.json()
    assert body["verifiableCredential"] == VERIFIABLE_CREDENTIAL
    assert body["visibility"] == "public"
    assert set(body) == {"id", "verifiableCredential", "visibility", "createdAt"}
    stored = Credential.objects.get(public_id=body["id"])
    assert stored.organization == organization
    assert stored.created_by_application.name == "Client 1"


def test_visibility_defaults_to_private(client, token):
    assert post(client, token, {"verifiableCredential": VERIFIABLE_CREDENTIAL}).json()["visibility"] == "private"


def test_a_version_1_1_credential_is_accepted(client, token):
    document = {
        "@context": ["https://www.w3.org/2018/credentials/v1"],
        "type": "VerifiableCredential",
        "issuer": "https://issuer.example/",
        "issuanceDate": "2026-01-01T00:00:00Z",
        "credentialSubject": [{"id": "did:example:1"}, {"id": "did:example:2"}],
    }
    assert post(client, token, {"verifiableCredential": document}).status_code == 201


MISSING = ["@context", "type", "issuer", "credentialSubject"]
MALFORMED = [
    ("@context", "https://www.w3.org/ns/credentials/v2"),
    ("@context", []),
    ("@context", ["https://example.com/other", "https://www.w3.org/ns/credentials/v2"]),
    ("@context", ["https://www.w3.org/ns/credentials/v2", 5]),
    ("type", ["ExampleCredential"]),
    ("type", "ExampleCredential"),
    ("type", ["VerifiableCredential", 3]),
    ("type", {"name": "VerifiableCredential"}),
    ("issuer", ""),
    ("issuer", {"name": "No id"}),
    ("issuer", {"id": 42}),
    ("issuer", 42),
    ("credentialSubject", "did:example:1"),
    ("credentialSubject", []),
    ("credentialSubject", [{"id": "did:example:1"}, "x"]),
    ("id", 7),
]


@pytest.mark.parametrize("field", MISSING)
def test_a_missing_field_is_named(client, token, field):
    response = post(client, token, credential_with(**{field: None}))
    assert response.status_code == 400
    assert response.json() == {"verifiableCredential": {field: ["This field is required."]}}
    assert not Credential.objects.exists()


@pytest.mark.parametrize(("field", "value"), MALFORMED, ids=lambda value: json.dumps(value))
def test_a_malformed_field_is_named(client, token, field, value):
    response = post(client, token, credential_with(**{field: value}))
    assert response.status_code == 400
    errors = response.json()["verifiableCredential"]
    assert list(errors) == [field]
    assert not Credential.objects.exists()


def test_every_bad_field_is_named_at_once(client, token):
    response = post(client, token, {"verifiableCredential": {"type": ["X"], "issuer": {}}})
    assert set(response.json()["verifiableCredential"]) == {"@context", "type", "issuer", "credentialSubject"}


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"verifiableCredential": None},
        {"verifiableCredential": "a string"},
        {"verifiableCredential": [VERIFIABLE_CREDENTIAL]},
        [VERIFIABLE_CREDENTIAL],
        "just a string",
        None,
    ],
    ids=repr,
)
def test_a_body_that_is_not_a_credential_is_a_400(client, token, body):
    response = post(client, token, body)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert not Credential.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [("id", "urn:x"), ("createdAt", "2026-01-01T00:00:00Z"), ("organization", "x"), ("owner", "x")],
)
def test_fields_a_client_may_not_set_are_refused(client, token, field, value):
    response = post(client, token, {"verifiableCredential": VERIFIABLE_CREDENTIAL, field: value})
    assert response.status_code == 400
    assert field in response.json()


def test_an_unknown_visibility_is_a_400(client, token):
    response = post(client, token, {"verifiableCredential": VERIFIABLE_CREDENTIAL, "visibility": "secret"})
    assert response.status_code == 400
    assert "visibility" in response.json()


@pytest.mark.parametrize(
    "raw",
    [
        b"{",
        b"\xff\xfe",
        b'{"verifiableCredential": NaN}',
        b'{"verifiableCredential": Infinity}',
        b"[" * 100_000 + b"]" * 100_000,
        b'{"a": 1' + b"0" * 5000 + b"}",
    ],
    ids=["truncated", "not-utf8", "nan", "infinity", "deep", "huge-int"],
)
def test_unreadable_json_is_a_json_400(client, token, raw):
    response = post(client, token, raw)
    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]


@pytest.mark.parametrize(
    "value",
    [
        "nul \x00 inside",
        "lone \ud800 surrogate",
        "OVERFLOW",
        {"deep": json.loads("[" * 40 + "]" * 40)},
    ],
    ids=["nul", "surrogate", "infinite", "too-deep"],
)
def test_values_that_cannot_be_stored_are_a_400(client, token, value):
    document = credential_with(credentialSubject={"id": "did:example:1", "note": value})
    # 1e400 is valid JSON that Python reads as infinity, which no JSON document may carry back.
    raw = json.dumps(document).replace('"OVERFLOW"', "1e400")
    response = post(client, token, raw)
    assert response.status_code == 400
    assert list(response.json()) == ["verifiableCredential"]
    assert not Credential.objects.exists()


def test_a_body_over_the_upload_limit_is_413(client, token, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    document = credential_with(credentialSubject={"id": "did:example:1", "note": "x" * 2000})
    response = post(client, token, document)
    assert response.status_code == 413
    assert response.json() == {"detail": "The request body is too large."}


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]
)
def test_a_body_that_is_not_json_is_415(client, token, content_type):
    response = post(client, token, "verifiableCredential=x", content_type=content_type)
    assert response.status_code == 415
    assert response["Content-Type"] == "application/json"


def test_the_list_is_newest_first_with_a_total_count(client, token, make_credential):
    now = timezone.now()
    created = [make_credential(created_at=now - timedelta(minutes=minutes)) for minutes in (30, 10, 20)]
    body = client.get("/api/credentials", **bearer(token)).json()
    assert body["count"] == 3
    assert [item["id"] for item in body["results"]] == [str(created[i].public_id) for i in (1, 2, 0)]


def test_the_list_is_paginated(client, token, make_credential):
    for _ in range(5):
        make_credential()
    first = client.get("/api/credentials?page_size=2", **bearer(token)).json()
    assert first["count"] == 5
    assert len(first["results"]) == 2
    assert first["next"].endswith("page=2&page_size=2")
    last = client.get("/api/credentials?page=3&page_size=2", **bearer(token)).json()
    assert len(last["results"]) == 1
    assert last["next"] is None


@pytest.mark.parametrize("query", ["page=99", "page=0", "page=abc", "page=-1"])
def test_a_page_that_does_not_exist_is_a_json_404(client, token, make_credential, query):
    make_credential()
    response = client.get(f"/api/credentials?{query}", **bearer(token))
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"


@pytest.mark.parametrize("query", ["page_size=0", "page_size=-5", "page_size=abc", "page_size=100000"])
def test_an_odd_page_size_falls_back_or_caps(client, token, query):
    assert client.get(f"/api/credentials?{query}", **bearer(token)).status_code == 200


def test_patch_changes_visibility_only(client, token, make_credential):
    credential = make_credential()
    url = f"/api/credentials/{credential.public_id}"
    response = client.patch(url, {"visibility": "public"}, content_type="application/json", **bearer(token))
    assert response.status_code == 200
    assert response.json()["visibility"] == "public"
    credential.refresh_from_db()
    assert credential.visibility == "public"


def test_patch_refuses_to_change_the_document(client, token, make_credential):
    credential = make_credential()
    response = client.patch(
        f"/api/credentials/{credential.public_id}",
        {"verifiableCredential": {"issuer": "x"}},
        content_type="application/json",
        **bearer(token),
    )
    assert response.status_code == 400
    assert "only its visibility" in response.json()["verifiableCredential"][0]
    credential.refresh_from_db()
    assert credential.document == VERIFIABLE_CREDENTIAL


def test_patch_with_a_bad_visibility_leaves_the_row_unchanged(client, token, make_credential):
    credential = make_credential()
    response = client.patch(
        f"/api/credentials/{credential.public_id}", {"visibility": 1}, content_type="application/json", **bearer(token)
    )
    assert response.status_code == 400
    credential.refresh_from_db()
    assert credential.visibility == "private"


def test_delete_removes_the_credential(client, token, make_credential):
    credential = make_credential()
    response = client.delete(f"/api/credentials/{credential.public_id}", **bearer(token))
    assert response.status_code == 204
    assert not Credential.objects.filter(pk=credential.pk).exists()
    assert client.get(f"/api/credentials/{credential.public_id}", **bearer(token)).status_code == 404


def test_deleting_the_creating_application_keeps_the_credential(client, make_application, get_token):
    application, secret = make_application(name="Writer", scopes=["create:credentials"])
    created = post(client, get_token(application, secret), {"verifiableCredential": VERIFIABLE_CREDENTIAL})
    application.delete()
    credential = Credential.objects.get(public_id=created.json()["id"])
    assert credential.created_by_application is None


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", "/api/credentials"),
        ("PUT", "/api/credentials/00000000-0000-4000-8000-000000000000"),
        ("POST", "/api/credentials/00000000-0000-4000-8000-000000000000"),
        ("OPTIONS", "/api/credentials"),
        ("TRACE", "/api/credentials"),
    ],
)
def test_a_method_the_api_does_not_serve_is_a_json_405(client, token, method, path):
    response = client.generic(method, path, **bearer(token))
    assert response.status_code == 405
    assert response["Content-Type"] == "application/json"
    assert "OPTIONS" not in response["Allow"]


@pytest.mark.parametrize(
    "path",
    ["/api/credentials/", "/api/credentials/not-a-uuid", "/api/nothing", "/api/credentials/../applications"],
)
def test_paths_that_name_no_operation_are_a_json_404_without_a_redirect(client, token, path):
    response = client.get(path, **bearer(token))
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"


def test_head_reads_like_get(client, token, make_credential):
    make_credential()
    response = client.head("/api/credentials", **bearer(token))
    assert response.status_code == 200
    assert response.content == b""


@pytest.mark.parametrize("method", ["POST", "PATCH", "DELETE", "PUT"])
def test_a_write_to_a_path_that_names_no_operation_is_a_json_404_not_a_csrf_page(method):
    from django.test import Client

    response = Client(enforce_csrf_checks=True).generic(method, "/api/credentials/null,null")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
