import json
import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from api.tests.helpers import OPERATIONS, schema_operations
from applications import scopes as catalog
from portal.actors import ScopeEscalation


def test_the_schema_needs_no_token_and_serves_json_on_request(client):
    assert client.get("/api/schema/?format=json").json()["openapi"].startswith("3.")
    assert client.get("/api/schema/?format=yaml")["Content-Type"].startswith("application/vnd.oai.openapi")
    assert client.get("/api/schema", follow=True).json()["openapi"].startswith("3.")


def test_the_description_links_the_authorization_server_metadata(schema, client):
    description = schema["info"]["description"]
    link = "[/.well-known/oauth-authorization-server](/.well-known/oauth-authorization-server)"
    assert link in description
    assert "/oauth/revoke" in description and "/oauth/introspect" in description
    assert client.get("/.well-known/oauth-authorization-server").status_code == 200


def test_the_security_scheme_is_client_credentials_with_every_catalog_scope(schema):
    scheme = schema["components"]["securitySchemes"]["oauth2"]
    assert scheme["type"] == "oauth2"
    assert scheme["flows"] == {"clientCredentials": {"tokenUrl": "/oauth/token", "scopes": catalog.SCOPES}}


def test_every_operation_names_the_scope_the_permission_requires(schema):
    documented = {key: operation["security"] for key, operation in schema_operations(schema).items()}
    expected = {
        (operation.method, re.sub(r"\{\w+\}", "{id}", operation.path)): [{"oauth2": [operation.scope]}]
        for operation in OPERATIONS
    }
    assert documented == expected


def test_every_operation_has_schemas_examples_and_its_errors(schema):
    for (method, path), operation in schema_operations(schema).items():
        responses = operation["responses"]
        assert {"401", "403"} <= set(responses), (method, path)
        assert operation["description"].endswith(f"`{operation['security'][0]['oauth2'][0]}` scope.")
        for status, response in responses.items():
            if status == "204":
                continue
            content = response["content"]["application/json"]
            assert "schema" in content and content.get("examples"), (method, path, status)
        if method in ("POST", "PATCH"):
            body = operation["requestBody"]["content"]["application/json"]
            assert body["schema"] and body["examples"], (method, path)


def test_the_credential_schema_states_the_data_model(schema):
    component = schema["components"]["schemas"]["CredentialRequest"]["properties"]["verifiableCredential"]
    assert component["required"] == ["@context", "type", "issuer", "credentialSubject"]


def test_the_docs_page_loads_swagger_ui_from_this_server_only(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert assets and all(asset.startswith(("/static/", "/api/docs/?script")) for asset in assets), assets
    assert "<script>" not in page  # the start-up script is a file of its own
    script = client.get("/api/docs/?script").content.decode()
    assert "/api/schema/" in script
    for text in (page, script):
        assert not re.search(r"https?://(?!www\.w3\.org)", text)


def test_the_api_urls_carry_no_trailing_slash():
    api = next(p for p in get_resolver().url_patterns if isinstance(p, URLResolver) and str(p.pattern) == "api/")
    routes = [str(p.pattern) for p in api.url_patterns if isinstance(p, URLPattern)]
    assert "credentials" in routes and "credentials/<uuid:public_id>" in routes


def test_the_schema_generates_without_a_warning_and_validates(tmp_path):
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))


def test_every_operation_documents_the_400_of_a_repeated_query_parameter(schema):
    for key, operation in schema_operations(schema).items():
        assert "400" in operation["responses"], key
        assert "more than once" in json.dumps(operation["responses"]["400"]), key


@pytest.mark.parametrize(
    "key",
    [
        ("POST", "/api/applications/{id}/secrets"),
        ("DELETE", "/api/applications/{id}/secrets/{id}"),
        ("PATCH", "/api/applications/{id}"),
    ],
)
def test_the_operations_that_change_credentials_or_lifetime_document_the_no_escalation_403(schema, key):
    forbidden = schema_operations(schema)[key]["responses"]["403"]
    details = [example["value"]["detail"] for example in forbidden["content"]["application/json"]["examples"].values()]
    assert str(ScopeEscalation()) in details
    assert "insufficient_scope" in forbidden["description"]
