"""What the API tests share: the token header, the token's row, the table of every operation and the schema's."""

import re
from dataclasses import dataclass
from datetime import datetime

from oauth2_provider.models import AccessToken

from api.examples import VERIFIABLE_CREDENTIAL
from applications import scopes as catalog
from applications.oauth.reads import token_checksum
from applications.tests.key_helpers import private_key, public_pem

ALL_SCOPES = tuple(catalog.SCOPES)
# A public key the operations' table adds (POST …/keys).
PUBLIC_KEY = public_pem(private_key("ES256"))
# A federated credential it adds (POST …/federated-credentials): "{issuer}" stands for the local issuer's URL.
FEDERATED_CREDENTIAL = {"name": "Deploy", "issuer": "{issuer}", "subject": "repo:octo-org/octo-repo:environment:prod"}


def access_token_row(token: str) -> AccessToken:
    return AccessToken.objects.get(token_checksum=token_checksum(token))


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def api_time(moment: datetime) -> str:
    """A stored UTC time as the API writes it: ISO 8601 with a Z."""
    return moment.isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    scope: str
    status: int
    body: dict | None = None

    def __str__(self):
        return f"{self.method} {self.path}"


OPERATIONS = [
    Operation("GET", "/api/credentials", "read:credentials", 200),
    Operation("POST", "/api/credentials", "create:credentials", 201, {"verifiableCredential": VERIFIABLE_CREDENTIAL}),
    Operation("GET", "/api/credentials/{credential}", "read:credentials", 200),
    Operation("PATCH", "/api/credentials/{credential}", "update:credentials", 200, {"visibility": "public"}),
    Operation("DELETE", "/api/credentials/{credential}", "delete:credentials", 204),
    Operation("GET", "/api/applications", "read:applications", 200),
    Operation("GET", "/api/applications/{application}", "read:applications", 200),
    Operation("PATCH", "/api/applications/{application}", "update:applications", 200, {"description": "Renamed"}),
    Operation("DELETE", "/api/applications/{application}", "delete:applications", 204),
    Operation("POST", "/api/applications/{application}/secrets", "update:applications", 201, {}),
    Operation("DELETE", "/api/applications/{rotated}/secrets/{secret}", "update:applications", 204),
    Operation("POST", "/api/applications/{application}/keys", "update:applications", 201, {"publicKey": PUBLIC_KEY}),
    Operation("DELETE", "/api/applications/{application}/keys/{key}", "update:applications", 204),
    Operation(
        "POST",
        "/api/applications/{application}/federated-credentials",
        "update:applications",
        201,
        FEDERATED_CREDENTIAL,
    ),
    Operation(
        "DELETE", "/api/applications/{application}/federated-credentials/{federated}", "update:applications", 204
    ),
    Operation("GET", "/api/organization", "read:organizations", 200),
]


def schema_operations(schema) -> dict:
    """The OpenAPI schema's operations by (method, path), each path parameter written `{id}`."""
    return {
        (method.upper(), re.sub(r"\{\w+\}", "{id}", path)): operation
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
    }
