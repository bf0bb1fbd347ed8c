import pytest

from api.tests.helpers import api_time, bearer
from applications.models import Application


@pytest.fixture
def token(token_with):
    return token_with("read:applications", "update:applications", "delete:applications", "read:organizations")


@pytest.fixture
def target(make_application):
    application, _ = make_application(name="Nightly sync", description="Copies things.", scopes=["read:credentials"])
    return application


def patch(client, token, application, body):
    return client.patch(
        f"/api/applications/{application.public_id}", body, content_type="application/json", **bearer(token)
    )


def test_an_application_shows_the_view_pages_facts_and_never_a_secret(client, token, target):
    row = target.secrets.get()
    response = client.get(f"/api/applications/{target.public_id}", **bearer(token))
    assert response.status_code == 200
    body = response.json()
    assert body == {
        "id": str(target.public_id),
        "name": "Nightly sync",
        "description": "Copies things.",
        "clientId": target.client_id,
        "scopes": ["read:credentials"],
        "createdAt": api_time(target.created),
        "lastUsedAt": None,
        "tokenLifetime": 3600,
        "allowedNetworks": [],
        "suspended": False,
        "secrets": [
            {
                "id": str(row.public_id),
                "hint": row.hint,
                "createdAt": body["secrets"][0]["createdAt"],
                "expiresAt": None,
                "lastUsedAt": None,
                "lastUsedAddress": None,
            }
        ],
        "keys": [],
        "federatedCredentials": [],
    }
    assert target.client_secret not in response.content.decode()
    assert row.secret_hash not in response.content.decode()


def test_the_list_is_newest_first_and_holds_no_secret(client, token, target):
    response = client.get("/api/applications", **bearer(token))
    body = response.json()
    assert body["count"] == 2
    assert [item["name"] for item in body["results"]] == ["Nightly sync", "Client 1"]
    assert "secret" not in response.content.decode().lower()
    assert target.client_secret not in response.content.decode()


def test_patch_renames_and_redescribes(client, token, target):
    response = patch(client, token, target, {"name": "Weekly sync", "description": "Less often."})
    assert response.status_code == 200
    assert response.json()["name"] == "Weekly sync"
    target.refresh_from_db()
    assert (target.name, target.description) == ("Weekly sync", "Less often.")


def test_patch_with_scopes_is_a_400_saying_they_are_fixed(client, token, target):
    response = patch(client, token, target, {"name": "Other", "scopes": ["read:credentials", "delete:applications"]})
    assert response.status_code == 400
    assert "fixed" in response.json()["scopes"][0]
    target.refresh_from_db()
    assert (target.name, target.scopes) == ("Nightly sync", "read:credentials")


@pytest.mark.parametrize("field", ["clientId", "client_secret", "id", "organization"])
def test_patch_refuses_other_fields(client, token, target, field):
    response = patch(client, token, target, {field: "x"})
    assert response.status_code == 400
    assert field in response.json()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "n" * 101}, "name"),
        ({"name": "Client 1"}, "name"),
        ({"name": "CLIENT 1"}, "name"),
        ({"name": None}, "name"),
        ({"name": ["x"]}, "name"),
        ({"name": "nul\x00"}, "name"),
        ({"description": "d" * 1001}, "description"),
        ({"description": "\ud800"}, "description"),
    ],
)
def test_patch_with_a_bad_value_names_the_field_and_changes_nothing(client, token, target, body, field):
    response = patch(client, token, target, body)
    assert response.status_code == 400
    assert field in response.json()
    target.refresh_from_db()
    assert (target.name, target.description) == ("Nightly sync", "Copies things.")


@pytest.mark.parametrize(
    "raw",
    ['{"name": "Innocent", "name": "Renamed"}', '{"name": "Renamed", "allowedNetworks": [], "allowedNetworks": []}'],
)
def test_a_body_that_repeats_a_key_is_a_400_and_changes_nothing(client, token, target, raw):
    # json.loads keeps the last of a repeated key; a proxy or a log may keep the first: neither reading is taken.
    response = patch(client, token, target, raw)

    assert response.status_code == 400
    assert response.json() == {"detail": "JSON parse error - A key is repeated in the JSON body."}
    target.refresh_from_db()
    assert target.name == "Nightly sync"


@pytest.mark.parametrize(
    "first, second", [("Weekly sync", "Ｗｅｅｋｌｙ sync"), ("FILE", "ﬁle"), ("Straße", "STRASSE")]
)
def test_patch_to_a_look_alike_name_is_a_400_and_changes_nothing(
    client, token, target, make_application, first, second
):
    make_application(name=first)

    response = patch(client, token, target, {"name": second})

    assert response.status_code == 400
    assert response.json()["name"] == ["An application with this name already exists in the organization."]
    target.refresh_from_db()
    assert target.name == "Nightly sync"


def test_delete_removes_the_application(client, token, target):
    response = client.delete(f"/api/applications/{target.public_id}", **bearer(token))
    assert response.status_code == 204
    assert not Application.objects.filter(pk=target.pk).exists()


def test_the_organization_is_the_tokens(client, token, organization):
    response = client.get("/api/organization", **bearer(token))
    assert response.json() == {
        "id": str(organization.public_id),
        "name": "Acme Corp",
        "slug": "acme-corp",
        "createdAt": api_time(organization.created_at),
    }


def test_api_changes_are_audited_as_the_calling_client(client, make_application, get_token):
    from applications.selectors import audit_events_for_application

    caller, secret = make_application(name="Admin script", scopes=["update:applications", "delete:applications"])
    target, _ = make_application(name="Target", scopes=["read:credentials"])
    token = get_token(caller, secret)

    client.patch(
        f"/api/applications/{target.public_id}",
        {"description": "changed"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
        REMOTE_ADDR="192.0.2.33",
    )
    client.delete(f"/api/applications/{target.public_id}", HTTP_AUTHORIZATION=f"Bearer {token}")

    updated, deleted = sorted(audit_events_for_application(target).exclude(action="created"), key=lambda e: e.id)
    assert updated.actor_label == "API client “Admin script”"
    assert updated.address == "192.0.2.33"
    assert updated.changes == {"description": ["", "changed"]}
    assert deleted.action == "deleted"
