"""The Postman collection (v2.1) of the API: no secrets, everything comes from a downloaded environment."""

import json
import uuid
from dataclasses import dataclass

from api import examples
from api.permissions import scope_for
from applications.lifetimes import EXPIRES_IN_DAYS, KEEP_CURRENT_FOR

FILENAME = "integrations-portal.postman_collection.json"
SCHEMA = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"

# Gets a token with the environment's client credentials (client_secret_post) and keeps it
# in collection variables until a minute before it expires, or until CLIENT_ID changes.
TOKEN_SCRIPT = """\
const clientId = pm.variables.get("CLIENT_ID");
const cachedToken = pm.collectionVariables.get("ACCESS_TOKEN");
const cachedFor = pm.collectionVariables.get("ACCESS_TOKEN_CLIENT_ID");
const expiresAt = Number(pm.collectionVariables.get("ACCESS_TOKEN_EXPIRES_AT") || 0);
if (!cachedToken || cachedFor !== clientId || Date.now() >= expiresAt) {
    const form = [
        { key: "grant_type", value: "client_credentials" },
        { key: "client_id", value: clientId },
        { key: "client_secret", value: pm.variables.get("CLIENT_SECRET") },
    ];
    const scopes = pm.variables.get("SCOPES");
    if (scopes) {
        form.push({ key: "scope", value: scopes });
    }
    const audience = pm.variables.get("TOKEN_AUDIENCE");
    if (audience) {
        form.push({ key: "audience", value: audience });
    }
    pm.sendRequest({
        url: pm.variables.get("TOKEN_ENDPOINT"),
        method: "POST",
        header: [{ key: "Accept", value: "application/json" }],
        body: { mode: "urlencoded", urlencoded: form },
    }, function (error, response) {
        if (error || response.code !== 200) {
            pm.collectionVariables.unset("ACCESS_TOKEN");
            console.error("No access token from TOKEN_ENDPOINT:", error || response.text());
            return;
        }
        const token = response.json();
        pm.collectionVariables.set("ACCESS_TOKEN", token.access_token);
        pm.collectionVariables.set("ACCESS_TOKEN_CLIENT_ID", clientId);
        const lifetime = Math.max(token.expires_in - 60, 0) * 1000;
        pm.collectionVariables.set("ACCESS_TOKEN_EXPIRES_AT", String(Date.now() + lifetime));
    });
}
"""


@dataclass(frozen=True)
class Operation:
    name: str
    method: str
    path: tuple[str, ...]
    action: str
    resource: str
    description: str
    status: int
    body: str | None = None
    # Variables the request's URL or body needs; the request is skipped while one is empty.
    needs: tuple[str, ...] = ()
    tests: str = ""

    @property
    def scope(self) -> str:
        return scope_for(self.action, self.resource)


def _json_body(value) -> str:
    return json.dumps(value, indent=2)


OPERATIONS: tuple[tuple[str, tuple[Operation, ...]], ...] = (
    (
        "Organization",
        (
            Operation(
                "Read the organization",
                "GET",
                ("organization",),
                "read",
                "organizations",
                "The organization the access token belongs to.",
                200,
                tests='pm.test("is the environment\'s organization", function () {\n'
                '    pm.expect(pm.response.json().id).to.eql(pm.variables.get("ORGANIZATION_ID"));\n'
                "});\n",
            ),
        ),
    ),
    (
        "Credentials",
        (
            Operation(
                "Store a credential",
                "POST",
                ("credentials",),
                "create",
                "credentials",
                "Stores a W3C Verifiable Credential; every missing or malformed field is named in a 400.",
                201,
                body=_json_body({"verifiableCredential": examples.VERIFIABLE_CREDENTIAL, "visibility": "private"}),
                tests='pm.collectionVariables.set("CREDENTIAL_ID", pm.response.json().id);\n',
            ),
            Operation(
                "List credentials",
                "GET",
                ("credentials",),
                "read",
                "credentials",
                "The organization's credentials, newest first, with a total count. "
                "`page` and `page_size` (at most 100) choose the page.",
                200,
                tests='pm.test("has a count and results", function () {\n'
                "    const page = pm.response.json();\n"
                '    pm.expect(page.count).to.be.a("number");\n'
                '    pm.expect(page.results).to.be.an("array");\n'
                "});\n",
            ),
            Operation(
                "Read a credential",
                "GET",
                ("credentials", "{{CREDENTIAL_ID}}"),
                "read",
                "credentials",
                "One credential of the organization, by id.",
                200,
                needs=("CREDENTIAL_ID",),
                tests='pm.test("is the stored credential", function () {\n'
                '    pm.expect(pm.response.json().id).to.eql(pm.variables.get("CREDENTIAL_ID"));\n'
                "});\n",
            ),
            Operation(
                "Change a credential's visibility",
                "PATCH",
                ("credentials", "{{CREDENTIAL_ID}}"),
                "update",
                "credentials",
                "Only `visibility` (`private` or `public`) changes.",
                200,
                body=_json_body({"visibility": "public"}),
                needs=("CREDENTIAL_ID",),
                tests='pm.test("is public now", function () {\n'
                '    pm.expect(pm.response.json().visibility).to.eql("public");\n'
                "});\n",
            ),
            Operation(
                "Delete a credential",
                "DELETE",
                ("credentials", "{{CREDENTIAL_ID}}"),
                "delete",
                "credentials",
                "Deletes the credential stored above.",
                204,
                needs=("CREDENTIAL_ID",),
                tests='pm.collectionVariables.unset("CREDENTIAL_ID");\n',
            ),
        ),
    ),
    (
        "Applications",
        (
            Operation(
                "List applications",
                "GET",
                ("applications",),
                "read",
                "applications",
                "The organization's applications, newest first; never a secret. "
                "Remembers this environment's own application as APPLICATION_ID.",
                200,
                tests="const own = pm.response.json().results.find(function (application) {\n"
                '    return application.clientId === pm.variables.get("CLIENT_ID");\n'
                "});\n"
                "if (own) {\n"
                '    pm.collectionVariables.set("APPLICATION_ID", own.id);\n'
                '    pm.collectionVariables.set("APPLICATION_DESCRIPTION_JSON", JSON.stringify(own.description));\n'
                "}\n",
            ),
            Operation(
                "Read an application",
                "GET",
                ("applications", "{{APPLICATION_ID}}"),
                "read",
                "applications",
                "One application of the organization; never its secret.",
                200,
                needs=("APPLICATION_ID",),
                tests='pm.test("has no secret", function () {\n'
                '    pm.expect(pm.response.json()).to.not.have.any.keys("clientSecret", "client_secret");\n'
                "});\n",
            ),
            Operation(
                "Update an application",
                "PATCH",
                ("applications", "{{APPLICATION_ID}}"),
                "update",
                "applications",
                "Changes `name`, `description`, `tokenLifetime`, `allowedNetworks` or `suspended`; scopes are "
                "fixed at creation. As shipped it sends the application's own description back unchanged.",
                200,
                body='{\n  "description": {{APPLICATION_DESCRIPTION_JSON}}\n}',
                needs=("APPLICATION_ID", "APPLICATION_DESCRIPTION_JSON"),
            ),
            Operation(
                "Rotate secret",
                "POST",
                ("applications", "{{APPLICATION_TO_ROTATE}}", "secrets"),
                "update",
                "applications",
                "Generates a new client secret for the application whose id is in APPLICATION_TO_ROTATE and shows "
                "it once; the current secret keeps working for `keepCurrentFor` seconds (0: it stops now; null: "
                "until revoked). Skipped while APPLICATION_TO_ROTATE is empty, so a run never rotates a secret "
                "nobody asked for. Put the new secret in CLIENT_SECRET before the old one stops working.",
                201,
                body=_json_body({"keepCurrentFor": KEEP_CURRENT_FOR.default, "expiresInDays": EXPIRES_IN_DAYS.default}),
                needs=("APPLICATION_TO_ROTATE",),
                tests='pm.test("is a new identifiable secret", function () {\n'
                "    pm.expect(pm.response.json().clientSecret).to.match(/^ipcs_[0-9A-Za-z]{49}$/);\n"
                "});\n",
            ),
            Operation(
                "Revoke secret",
                "DELETE",
                ("applications", "{{APPLICATION_TO_ROTATE}}", "secrets", "{{SECRET_TO_REVOKE}}"),
                "update",
                "applications",
                "Revokes the secret whose id is in SECRET_TO_REVOKE (see “Read an application”) of the application "
                "in APPLICATION_TO_ROTATE, and the tokens issued with it unless `?revokeTokens=false` is added. "
                "Skipped while either is empty.",
                204,
                needs=("APPLICATION_TO_ROTATE", "SECRET_TO_REVOKE"),
            ),
            Operation(
                "Add key",
                "POST",
                ("applications", "{{APPLICATION_TO_ROTATE}}", "keys"),
                "update",
                "applications",
                "Adds the public key in PUBLIC_KEY_JSON (a PEM as a JSON string, or a JWK object) to the application "
                "in APPLICATION_TO_ROTATE: it then authenticates with client assertions signed by the private key. "
                "Skipped while either is empty.",
                201,
                body='{\n  "publicKey": {{PUBLIC_KEY_JSON}},\n  "expiresInDays": null\n}',
                needs=("APPLICATION_TO_ROTATE", "PUBLIC_KEY_JSON"),
            ),
            Operation(
                "Revoke key",
                "DELETE",
                ("applications", "{{APPLICATION_TO_ROTATE}}", "keys", "{{KEY_TO_REVOKE}}"),
                "update",
                "applications",
                "Revokes the key whose id is in KEY_TO_REVOKE (see “Read an application”) of the application in "
                "APPLICATION_TO_ROTATE, and the tokens issued through it unless `?revokeTokens=false` is added. "
                "Skipped while either is empty.",
                204,
                needs=("APPLICATION_TO_ROTATE", "KEY_TO_REVOKE"),
            ),
            Operation(
                "Add federated credential",
                "POST",
                ("applications", "{{APPLICATION_TO_ROTATE}}", "federated-credentials"),
                "update",
                "applications",
                "Adds the federated credential in FEDERATED_CREDENTIAL_JSON (an object with name, issuer, subject and "
                "optionally audience) to the application in APPLICATION_TO_ROTATE: the tokens that issuer gives that "
                "workload then get access tokens. The issuer's keys are read first. Skipped while either is empty.",
                201,
                body="{{FEDERATED_CREDENTIAL_JSON}}",
                needs=("APPLICATION_TO_ROTATE", "FEDERATED_CREDENTIAL_JSON"),
            ),
            Operation(
                "Revoke federated credential",
                "DELETE",
                (
                    "applications",
                    "{{APPLICATION_TO_ROTATE}}",
                    "federated-credentials",
                    "{{FEDERATED_CREDENTIAL_TO_REVOKE}}",
                ),
                "update",
                "applications",
                "Revokes the federated credential whose id is in FEDERATED_CREDENTIAL_TO_REVOKE (see “Read an "
                "application”) of the application in APPLICATION_TO_ROTATE, and the tokens issued through it unless "
                "`?revokeTokens=false` is added. Skipped while either is empty.",
                204,
                needs=("APPLICATION_TO_ROTATE", "FEDERATED_CREDENTIAL_TO_REVOKE"),
            ),
            Operation(
                "Delete an application",
                "DELETE",
                ("applications", "{{APPLICATION_TO_DELETE}}"),
                "delete",
                "applications",
                "Deletes the application whose id is in APPLICATION_TO_DELETE; its credentials and tokens stop "
                "working at once. Skipped while APPLICATION_TO_DELETE is empty, so a run never deletes an "
                "application nobody named.",
                204,
                needs=("APPLICATION_TO_DELETE",),
            ),
        ),
    ),
)

COLLECTION_VARIABLES = {
    "CREDENTIAL_ID": "Set by “Store a credential”.",
    "APPLICATION_ID": "Set by “List applications” to this environment's own application.",
    "APPLICATION_DESCRIPTION_JSON": "Set by “List applications”.",
    "APPLICATION_TO_ROTATE": "The id of an application “Rotate secret” generates a new secret for; empty skips it.",
    "SECRET_TO_REVOKE": "The id of a secret of APPLICATION_TO_ROTATE “Revoke secret” revokes; empty skips it.",
    "PUBLIC_KEY_JSON": "A public key “Add key” adds to APPLICATION_TO_ROTATE, as JSON; empty skips it.",
    "KEY_TO_REVOKE": "The id of a key of APPLICATION_TO_ROTATE “Revoke key” revokes; empty skips it.",
    "FEDERATED_CREDENTIAL_JSON": "A federated credential “Add federated credential” adds to APPLICATION_TO_ROTATE, "
    'as a JSON object such as {"name": "CI", "issuer": "https://token.actions.githubusercontent.com", "subject": '
    '"repo:octo-org/octo-repo:ref:refs/heads/main"}; empty skips it.',
    "FEDERATED_CREDENTIAL_TO_REVOKE": "The id of a federated credential of APPLICATION_TO_ROTATE “Revoke federated "
    "credential” revokes; empty skips it.",
    "APPLICATION_TO_DELETE": "The id of an application “Delete an application” deletes; empty skips it.",
    "ACCESS_TOKEN": "Set by the collection's pre-request script.",
    "ACCESS_TOKEN_CLIENT_ID": "Set by the collection's pre-request script.",
    "ACCESS_TOKEN_EXPIRES_AT": "Set by the collection's pre-request script.",
}


def _script(kind: str, source: str) -> dict:
    return {"listen": kind, "script": {"type": "text/javascript", "exec": source.splitlines()}}


def _skip_when(condition: str, reason: str) -> str:
    """Pre-request script that skips the request, saying why in the console, while `condition` holds."""
    return f'if ({condition}) {{\n    console.log("Skipped: {reason}");\n    pm.execution.skipRequest();\n}}\n'


def _guard(operation: Operation) -> str:
    scope = operation.scope
    script = _skip_when(
        f'!(pm.variables.get("SCOPES") || "").split(" ").includes("{scope}")',
        f"the application does not have the {scope} scope.",
    )
    for name in operation.needs:
        script += _skip_when(f'!pm.variables.get("{name}")', f"{name} is empty.")
    return script


def _status_test(status: int) -> str:
    reason = {200: "OK", 201: "Created", 204: "No Content"}[status]
    return f'pm.test("{status} {reason}", function () {{\n    pm.response.to.have.status({status});\n}});\n'


def _item(operation: Operation) -> dict:
    request = {
        "method": operation.method,
        "header": [{"key": "Accept", "value": "application/json"}],
        "url": {
            "raw": "/".join(("{{API_BASE_URL}}", *operation.path)),
            "host": ["{{API_BASE_URL}}"],
            "path": list(operation.path),
        },
        "description": f"{operation.description}\n\nNeeds the `{operation.scope}` scope.",
    }
    if operation.body is not None:
        request["header"].append({"key": "Content-Type", "value": "application/json"})
        request["body"] = {"mode": "raw", "raw": operation.body, "options": {"raw": {"language": "json"}}}
    return {
        "name": operation.name,
        "event": [
            _script("prerequest", _guard(operation)),
            _script("test", _status_test(operation.status) + operation.tests),
        ],
        "request": request,
    }


# Answers whether the collection's current token is active and what it allows (RFC 7662). The
# endpoint authenticates the client itself, so the request sends the environment's client
# credentials in the body, as the token script does, and no bearer token.
INTROSPECTION_SCRIPT_GUARD = _skip_when(
    '!pm.variables.get("INTROSPECTION_ENDPOINT")',
    "INTROSPECTION_ENDPOINT is empty (an environment downloaded before introspection existed).",
)
INTROSPECTION_TESTS = (
    _status_test(200)
    + """\
pm.test("the token is active and belongs to this environment's client", function () {
    const answer = pm.response.json();
    pm.expect(answer.active).to.eql(true);
    pm.expect(answer.client_id).to.eql(pm.variables.get("CLIENT_ID"));
    pm.expect(answer.token_type).to.eql("Bearer");
    pm.expect(answer.exp).to.be.above(Date.now() / 1000);
});
"""
)


def _introspection_item() -> dict:
    return {
        "name": "Introspect my token",
        "event": [_script("prerequest", INTROSPECTION_SCRIPT_GUARD), _script("test", INTROSPECTION_TESTS)],
        "request": {
            "auth": {"type": "noauth"},
            "method": "POST",
            "header": [{"key": "Accept", "value": "application/json"}],
            "body": {
                "mode": "urlencoded",
                "urlencoded": [
                    {"key": "token", "value": "{{ACCESS_TOKEN}}", "type": "text"},
                    {"key": "token_type_hint", "value": "access_token", "type": "text"},
                    {"key": "client_id", "value": "{{CLIENT_ID}}", "type": "text"},
                    {"key": "client_secret", "value": "{{CLIENT_SECRET}}", "type": "text"},
                ],
            },
            "url": {"raw": "{{INTROSPECTION_ENDPOINT}}", "host": ["{{INTROSPECTION_ENDPOINT}}"]},
            "description": "Asks the introspection endpoint (RFC 7662) whether the collection's access token is "
            "still active, and for its scope, client and expiry. Needs no scope: an application may ask about its "
            'own tokens; any other token answers `{"active": false}`.',
        },
    }


def collection() -> dict:
    return {
        "info": {
            "_postman_id": str(uuid.uuid5(uuid.NAMESPACE_URL, "integrations-portal/api")),
            "name": "Integrations Portal API",
            "description": "Import this collection and the Postman environment downloaded with an application, "
            "select the environment, then send requests or run the collection. Every request gets its access "
            "token from TOKEN_ENDPOINT with the environment's client credentials; a request whose scope the "
            "application lacks is skipped.",
            "schema": SCHEMA,
        },
        "auth": {"type": "bearer", "bearer": [{"key": "token", "value": "{{ACCESS_TOKEN}}", "type": "string"}]},
        "event": [_script("prerequest", TOKEN_SCRIPT)],
        "variable": [
            {"key": key, "value": "", "type": "string", "description": description}
            for key, description in COLLECTION_VARIABLES.items()
        ],
        "item": [
            *(
                {"name": folder, "item": [_item(operation) for operation in operations]}
                for folder, operations in OPERATIONS
            ),
            {"name": "OAuth", "item": [_introspection_item()]},
        ],
    }
