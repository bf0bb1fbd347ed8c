"""How the API describes itself in OpenAPI: the OAuth 2.0 scheme, each operation's scope, error bodies."""

from django.urls import reverse
from drf_spectacular import openapi
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, inline_serializer
from rest_framework import serializers

from api.permissions import required_scope
from applications import scopes as catalog

SCHEME_NAME = "oauth2"

ERROR = inline_serializer("Error", {"detail": serializers.CharField()})
VALIDATION_ERROR = OpenApiResponse(
    response={
        "type": "object",
        "description": "Each key names a bad field (nested for fields inside the credential document).",
        "additionalProperties": True,
    },
    description="The request is malformed: unreadable JSON, or fields that are missing or invalid, each named.",
    examples=[
        OpenApiExample(
            "Unreadable JSON",
            value={"detail": "JSON parse error - Expecting value: line 1 column 1 (char 0)"},
            response_only=True,
            status_codes=["400"],
        )
    ],
)
VALIDATION_EXAMPLE = OpenApiExample(
    "Missing and malformed credential fields",
    value={
        "verifiableCredential": {
            "issuer": ["This field is required."],
            "type": ["Must include VerifiableCredential."],
        }
    },
    response_only=True,
    status_codes=["400"],
)
_ERROR_DESCRIPTIONS = {
    401: 'No usable access token: none was sent (`WWW-Authenticate: Bearer realm="api"`), or it is unknown, '
    'expired or revoked (`WWW-Authenticate: Bearer realm="api", error="invalid_token"`).',
    403: 'The token lacks the scope this operation needs (`WWW-Authenticate: Bearer error="insufficient_scope", '
    'scope="…"`).',
    404: "No such object in the token's organization, or no such page.",
    413: "The request body is too large.",
    415: "The request body is not application/json.",
}


_ERROR_EXAMPLES = {
    401: ("Invalid token", "The access token is invalid, expired or revoked."),
    403: ("Missing scope", "This operation needs the read:credentials scope."),
    404: ("Not found", "No Credential matches the given query."),
    413: ("Too large", "The request body is too large."),
    415: ("Not JSON", 'Unsupported media type "text/plain" in request.'),
}


def _error(code: int) -> OpenApiResponse:
    name, detail = _ERROR_EXAMPLES[code]
    example = OpenApiExample(name, value={"detail": detail}, response_only=True, status_codes=[str(code)])
    return OpenApiResponse(ERROR, description=_ERROR_DESCRIPTIONS[code], examples=[example])


def errors(*codes: int) -> dict:
    """Response entries for the given error statuses, for `extend_schema(responses=…)`."""
    return {code: VALIDATION_ERROR if code == 400 else _error(code) for code in codes}


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.BearerTokenAuthentication"
    name = SCHEME_NAME

    def get_security_definition(self, auto_schema):
        return {
            "type": "oauth2",
            "description": "Client credentials grant (RFC 6749 §4.4): exchange the application's client ID and "
            "secret for an access token, then send it as `Authorization: Bearer <token>`.",
            "flows": {"clientCredentials": {"tokenUrl": reverse("oauth-token"), "scopes": dict(catalog.SCOPES)}},
        }

    def get_security_requirement(self, auto_schema):
        scope = required_scope(auto_schema.view, auto_schema.method)
        return {self.name: [scope] if scope else []}


class AutoSchema(openapi.AutoSchema):
    """Names each operation's scope in its description too, where Swagger UI shows it beside the operation."""

    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        scope = required_scope(self.view, self.method)
        if operation is not None and scope:
            operation["description"] = f"{operation.get('description', '')}\n\nNeeds the `{scope}` scope.".strip()
        return operation
