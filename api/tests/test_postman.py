"""The Postman collection: one request per operation of the schema, in an order that runs, and no secret.

api/tests/test_newman.py runs it end to end with newman.
"""

import json
import re

from api import postman
from api.tests.helpers import schema_operations


def test_the_collection_has_one_request_per_operation_in_a_working_order(client, schema):
    response = client.get("/api/postman-collection.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "attachment" in response["Content-Disposition"]
    collection = response.json()
    assert collection["info"]["schema"] == postman.SCHEMA
    requests = [
        (
            item["request"]["method"],
            re.sub(r"\{\{\w+\}\}", "{id}", item["request"]["url"]["raw"].replace("{{API_BASE_URL}}", "/api")),
        )
        for folder in collection["item"]
        for item in folder["item"]
        if folder["name"] != "OAuth"
    ]
    assert sorted(requests) == sorted(schema_operations(schema))
    assert len(requests) == len(set(requests))
    names = [item["name"] for folder in collection["item"] for item in folder["item"]]
    assert names.index("Store a credential") < names.index("Read a credential") < names.index("Delete a credential")


def test_the_collection_introspects_its_own_token_with_body_credentials_and_no_bearer(client):
    folders = {folder["name"]: folder["item"] for folder in client.get("/api/postman-collection.json").json()["item"]}
    [item] = folders["OAuth"]
    request = item["request"]
    assert item["name"] == "Introspect my token"
    assert request["method"] == "POST"
    assert request["url"]["raw"] == "{{INTROSPECTION_ENDPOINT}}"
    assert request["auth"] == {"type": "noauth"}
    assert {field["key"]: field["value"] for field in request["body"]["urlencoded"]} == {
        "token": "{{ACCESS_TOKEN}}",
        "token_type_hint": "access_token",
        "client_id": "{{CLIENT_ID}}",
        "client_secret": "{{CLIENT_SECRET}}",
    }


def test_the_collection_holds_no_secret_and_reads_the_environment(client):
    collection = client.get("/api/postman-collection.json").json()
    text = json.dumps(collection)
    for key in ("API_BASE_URL", "TOKEN_ENDPOINT", "TOKEN_AUDIENCE", "CLIENT_ID", "CLIENT_SECRET", "SCOPES"):
        assert "{{" + key + "}}" in text or f'"{key}"' in text.replace('\\"', '"'), key
    assert all(variable["value"] == "" for variable in collection["variable"])
    script = "\n".join(collection["event"][0]["script"]["exec"])
    assert "pm.sendRequest" in script and "TOKEN_ENDPOINT" in script
