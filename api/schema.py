"""How the API describes itself in OpenAPI: the OAuth 2.0 scheme, each operation's scope, error bodies,
and each view's operations (applied to the views in api/views.py)."""

from django.urls import reverse
from drf_spectacular import openapi
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import serializers

from api import examples
from api.exceptions import InsufficientScope
from api.permissions import required_scope
from api.serializers import (
    ApplicationDetailSerializer,
    ApplicationSerializer,
    ApplicationUpdateSerializer,
    CredentialSerializer,
    CredentialUpdateSerializer,
    FederatedCredentialCreateSerializer,
    FederatedCredentialSerializer,
    KeyCreateSerializer,
    KeySerializer,
    NewSecretSerializer,
    OrganizationSerializer,
    SecretCreateSerializer,
)
from applications import scopes as catalog
from applications.lifetimes import KEEP_CURRENT_FOR
from applications.services import (
    DuplicateFederatedCredential,
    DuplicateKey,
    FederatedCredentialLimitReached,
    KeyLimitReached,
    LastLiveCredential,
    SecretLimitReached,
)
from portal.actors import ScopeEscalation

SCHEME_NAME = "oauth2"

ERROR = inline_serializer("Error", {"detail": serializers.CharField()})
VALIDATION_ERROR = OpenApiResponse(
    response={
        "type": "object",
        "description": "Each key names a bad field (nested for fields inside the credential document) or a "
        "query parameter given more than once.",
        "additionalProperties": True,
    },
    description="The request is malformed: unreadable JSON, fields that are missing or invalid, or a query "
    "parameter given more than once, each named.",
    examples=[
        OpenApiExample(
            "Unreadable JSON",
            value={"detail": "JSON parse error - Expecting value: line 1 column 1 (char 0)"},
            response_only=True,
            status_codes=["400"],
        )
    ],
)
REPEATED_PARAMETER = OpenApiResponse(
    response={
        "type": "object",
        "description": "Each key names a query parameter given more than once.",
        "additionalProperties": {"type": "array", "items": {"type": "string"}},
    },
    description="A query parameter is given more than once (each such parameter is named).",
    examples=[
        OpenApiExample(
            "Repeated parameter",
            value={"page": ["Give this parameter only once."]},
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


def _error_response(code: int, description: str, name: str, detail: str, extra=()) -> OpenApiResponse:
    """An error answer: its description, and an example `{"detail": …}` body named `name` (and more in `extra`)."""
    examples = [
        OpenApiExample(example, value={"detail": text}, response_only=True, status_codes=[str(code)])
        for example, text in [(name, detail), *extra]
    ]
    return OpenApiResponse(ERROR, description=description, examples=examples)


def _error(code: int) -> OpenApiResponse:
    return _error_response(code, _ERROR_DESCRIPTIONS[code], *_ERROR_EXAMPLES[code])


def errors(*codes: int) -> dict:
    """Response entries for the given error statuses, for `extend_schema(responses=…)`."""
    return {code: VALIDATION_ERROR if code == 400 else _error(code) for code in codes}


# The operations that change an application's credentials, token lifetime, networks or suspension: besides a missing
# scope, a 403 refuses a client acting on an application with scopes it lacks itself (contract §6, no escalation).
ACCESS_FORBIDDEN = OpenApiResponse(
    ERROR,
    description=f"{_ERROR_DESCRIPTIONS[403]} Or the application is neither the client's own nor one whose scopes "
    "are all among the client's: a client may not change the credentials, the token lifetime or the allowed "
    "networks of, nor suspend, an application with scopes it lacks.",
    examples=[
        OpenApiExample(
            _ERROR_EXAMPLES[403][0],
            value={"detail": str(InsufficientScope("update:applications").detail)},
            response_only=True,
            status_codes=["403"],
        ),
        OpenApiExample(
            "Scopes it lacks", value={"detail": str(ScopeEscalation())}, response_only=True, status_codes=["403"]
        ),
    ],
)


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


# --- Each view's operations: summaries, request and response bodies, examples ---------------------------------------

hidden = extend_schema(exclude=True)


def _read(operation_id: str, summary: str, serializer, example, *, description=None, error_codes=(401, 403, 404)):
    return extend_schema(
        operation_id=operation_id,
        summary=summary,
        description=description,
        responses={200: serializer, 400: REPEATED_PARAMETER, **errors(*error_codes)},
        examples=[example],
    )


def _write(
    operation_id: str,
    summary: str,
    description: str,
    *,
    request,
    response,
    status: int,
    examples: list,
    forbidden: OpenApiResponse | None = None,
):
    # Every write reads a JSON body: malformed (400), too large (413) or not JSON (415); an update (200)
    # names an object that may not exist (404), a create (201) does not.
    error_codes = (400, 401, 403, 404, 413, 415) if status == 200 else (400, 401, 403, 413, 415)
    responses = {status: response, **errors(*error_codes)}
    if forbidden is not None:
        responses[403] = forbidden
    return extend_schema(
        operation_id=operation_id,
        summary=summary,
        description=description,
        request=request,
        responses=responses,
        examples=examples,
    )


def _delete(operation_id: str, summary: str, *, description=None):
    return extend_schema(
        operation_id=operation_id,
        summary=summary,
        description=description,
        responses={204: OpenApiResponse(description="Deleted."), 400: REPEATED_PARAMETER, **errors(401, 403, 404)},
    )


CREDENTIAL_EXAMPLE = OpenApiExample(
    "Credential",
    value={
        "id": examples.CREDENTIAL_ID,
        "verifiableCredential": examples.VERIFIABLE_CREDENTIAL,
        "visibility": "private",
        "createdAt": "2026-01-01T12:00:00Z",
    },
    response_only=True,
)

credential_list = extend_schema_view(
    get=_read(
        "credentials_list",
        "List credentials",
        CredentialSerializer,
        CREDENTIAL_EXAMPLE,
        description="The organization's credentials, newest first, paginated with a total `count`.",
    ),
    post=_write(
        "credentials_create",
        "Store a credential",
        "Checks the W3C Verifiable Credentials data model; every missing or malformed field is named.",
        request=CredentialSerializer,
        response=CredentialSerializer,
        status=201,
        examples=[
            OpenApiExample(
                "A verifiable credential",
                value={"verifiableCredential": examples.VERIFIABLE_CREDENTIAL, "visibility": "private"},
                request_only=True,
            ),
            CREDENTIAL_EXAMPLE,
            VALIDATION_EXAMPLE,
        ],
    ),
)

credential_detail = extend_schema_view(
    get=_read("credentials_retrieve", "Read a credential", CredentialSerializer, CREDENTIAL_EXAMPLE),
    patch=_write(
        "credentials_update",
        "Change a credential's visibility",
        "Only `visibility` changes; the stored document never does.",
        request=CredentialUpdateSerializer,
        response=CredentialSerializer,
        status=200,
        examples=[
            OpenApiExample("Make it public", value={"visibility": "public"}, request_only=True),
            CREDENTIAL_EXAMPLE,
        ],
    ),
    delete=_delete("credentials_destroy", "Delete a credential"),
)

APPLICATION_EXAMPLE = OpenApiExample(
    "Application",
    value={
        "id": examples.APPLICATION_ID,
        "name": "Nightly sync",
        "description": "Copies credentials to the archive every night.",
        "clientId": "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5bC7d",
        "scopes": ["read:credentials", "create:credentials"],
        "createdAt": "2026-01-01T12:00:00Z",
        "lastUsedAt": "2026-01-02T08:30:00Z",
    },
    response_only=True,
)

APPLICATION_DETAIL_EXAMPLE = OpenApiExample(
    "Application",
    value={
        **APPLICATION_EXAMPLE.value,
        "tokenLifetime": 3600,
        "allowedNetworks": ["198.51.100.0/24", "2001:db8:42::/48"],
        "suspended": False,
        "secrets": [
            {
                "id": examples.SECRET_ID,
                "hint": "Q7xz",
                "createdAt": "2026-01-01T12:00:00Z",
                "expiresAt": None,
                "lastUsedAt": "2026-01-02T08:30:00Z",
                "lastUsedAddress": "198.51.100.7",
            }
        ],
        "keys": [],
        "federatedCredentials": [
            {
                "id": "9b2f4c7e-1d3a-4e5b-8c6d-7e8f9a0b1c2d",
                "name": "Deploy from main",
                "issuer": "https://token.actions.githubusercontent.com",
                "subject": "repo:octo-org/octo-repo:ref:refs/heads/main",
                "audience": "https://portal.example",
                "createdAt": "2026-01-01T12:00:00Z",
                "lastUsedAt": None,
            }
        ],
    },
    response_only=True,
)

application_list = extend_schema_view(
    get=_read(
        "applications_list",
        "List applications",
        ApplicationSerializer,
        APPLICATION_EXAMPLE,
        description="The organization's applications, newest first. Never a client secret or its hash.",
    ),
)

application_detail = extend_schema_view(
    get=_read(
        "applications_retrieve",
        "Read an application",
        ApplicationDetailSerializer,
        APPLICATION_DETAIL_EXAMPLE,
        description="With its token lifetime, allowed networks, whether it is suspended, its live secrets (id, hint, "
        "dates, the address of the last use; never a client secret or its hash), its live public keys (id, kid, "
        "alg, dates, the address of the last use) and its live federated credentials (id, name, issuer, subject, "
        "audience, dates, the address of the last use).",
    ),
    patch=_write(
        "applications_update",
        "Rename an application, change its description, token lifetime or allowed networks, or suspend it",
        "Only `name`, `description`, `tokenLifetime`, `allowedNetworks` and `suspended` change; scopes are fixed "
        "at creation, and sending them is a 400. `tokenLifetime` applies to the tokens issued afterwards; "
        "`allowedNetworks` and `suspended` hold from the next request on, for tokens already issued too (a request "
        "from outside the networks, or for a suspended application, is 401). A client may change the last three "
        "only for its own application or one whose scopes are all among its own (else 403, and nothing changes), "
        "and may not suspend itself (403).",
        request=ApplicationUpdateSerializer,
        response=ApplicationDetailSerializer,
        status=200,
        forbidden=ACCESS_FORBIDDEN,
        examples=[
            OpenApiExample(
                "New description",
                value={"description": "Copies credentials to the archive every night."},
                request_only=True,
            ),
            OpenApiExample("Shorter-lived tokens", value={"tokenLifetime": 900}, request_only=True),
            OpenApiExample(
                "Only from the integration's networks",
                value={"allowedNetworks": ["198.51.100.0/24", "2001:db8:42::/48"]},
                request_only=True,
            ),
            OpenApiExample("Suspend", value={"suspended": True}, request_only=True),
            APPLICATION_DETAIL_EXAMPLE,
            OpenApiExample(
                "Scopes are fixed",
                value={"scopes": ["Scopes are fixed when an application is created and cannot be changed."]},
                response_only=True,
                status_codes=["400"],
            ),
            OpenApiExample(
                "A bad network",
                value={"allowedNetworks": ["“198.51.100.0/33” is not an IP address or CIDR range."]},
                response_only=True,
                status_codes=["400"],
            ),
        ],
    ),
    delete=_delete(
        "applications_destroy",
        "Delete an application",
        description="Its client credentials and every token it was issued stop working from the next request on.",
    ),
)


def _conflict(description: str, example: str) -> OpenApiResponse:
    return _error_response(409, description, description, example)


application_secrets = extend_schema_view(
    post=extend_schema(
        operation_id="applications_secrets_create",
        summary="Generate a new client secret",
        description="Rotation without downtime: the new secret is in this answer once (`Cache-Control: no-store`); "
        f"the current live secret keeps working for `keepCurrentFor` seconds (default {KEEP_CURRENT_FOR.default}; "
        "0: it stops now; null: until revoked), never longer than its own expiry, and the tokens it issued live "
        "out their lifetime. An application may rotate its own secret, or that of an application whose scopes "
        "are all among its own; any other is 403.",
        request=SecretCreateSerializer,
        responses={
            201: NewSecretSerializer,
            409: _conflict("Two live secrets already", str(SecretLimitReached())),
            **errors(400, 401, 403, 404, 413, 415),
            403: ACCESS_FORBIDDEN,
        },
        examples=[
            OpenApiExample(
                "Keep the current secret for a day, the new one for 90 days",
                value={"keepCurrentFor": KEEP_CURRENT_FOR.default, "expiresInDays": 90},
                request_only=True,
            ),
            OpenApiExample(
                "New secret",
                value={
                    "id": examples.SECRET_ID,
                    "clientSecret": examples.CLIENT_SECRET,
                    "hint": examples.CLIENT_SECRET[-4:],
                    "createdAt": "2026-01-01T12:00:00Z",
                    "expiresAt": "2026-04-01T12:00:00Z",
                },
                response_only=True,
                status_codes=["201"],
            ),
        ],
    ),
)

application_secret = extend_schema_view(
    delete=extend_schema(
        operation_id="applications_secrets_destroy",
        summary="Revoke a client secret",
        description="The secret stops working at once, and so does every access token issued with it unless "
        "`revokeTokens=false`. An expired secret can be revoked too, to end the tokens it issued; a revoked or "
        "unknown secret is 404. A client may revoke the secrets of its own application or of one whose scopes "
        "are all among its own; any other is 403.",
        parameters=[
            OpenApiParameter(
                "revokeTokens",
                bool,
                description="false: the tokens issued with the secret live out their lifetime (default true).",
            )
        ],
        responses={
            204: OpenApiResponse(description="Revoked."),
            409: _conflict("The last live credential", str(LastLiveCredential())),
            **errors(400, 401, 403, 404),
            403: ACCESS_FORBIDDEN,
        },
    ),
)

KEY_EXAMPLE = {
    "id": "5f0c6d1e-8a7b-4c3d-9e2f-1a2b3c4d5e6f",
    "kid": "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs",
    "alg": "ES256",
    "createdAt": "2026-01-01T12:00:00Z",
    "expiresAt": "2026-04-01T12:00:00Z",
    "lastUsedAt": None,
}

application_keys = extend_schema_view(
    post=extend_schema(
        operation_id="applications_keys_create",
        summary="Add a public key",
        description="The application then authenticates with client assertions (RFC 7523, `private_key_jwt`) signed "
        "by the key's private key. `publicKey` is a PEM SubjectPublicKeyInfo or a public JWK: RSA of 2048 to 8192 "
        "bits, EC P-256 or Ed25519. A private key, a certificate or any other key is a 400 naming `publicKey`, and "
        "nothing of it is kept. At most 5 live keys, none twice (409). A client may add keys to its own application "
        "or to one whose scopes are all among its own; any other is 403.",
        request=KeyCreateSerializer,
        responses={
            201: KeySerializer,
            409: _error_response(
                409,
                "Five live keys already, or the same key is live already",
                "Five live keys already",
                str(KeyLimitReached()),
                extra=[("The same key twice", str(DuplicateKey()))],
            ),
            **errors(400, 401, 403, 404, 413, 415),
            403: ACCESS_FORBIDDEN,
        },
        examples=[
            OpenApiExample(
                "A PEM public key for 90 days",
                value={
                    "publicKey": "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE…\n"
                    "-----END PUBLIC KEY-----\n",
                    "expiresInDays": 90,
                },
                request_only=True,
            ),
            OpenApiExample(
                "A JWK",
                value={
                    "publicKey": {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
                },
                request_only=True,
            ),
            OpenApiExample("New key", value=KEY_EXAMPLE, response_only=True, status_codes=["201"]),
        ],
    ),
)

application_key = extend_schema_view(
    delete=extend_schema(
        operation_id="applications_keys_destroy",
        summary="Revoke a public key",
        description="The key stops authenticating at once, and every access token issued through it ends unless "
        "`revokeTokens=false`. An expired key can be revoked too, to end its tokens; a revoked or unknown key is "
        "404. The application's last live credential (secret or key) cannot be revoked (409). A client may revoke "
        "the keys of its own application or of one whose scopes are all among its own; any other is 403.",
        parameters=[
            OpenApiParameter(
                "revokeTokens",
                bool,
                description="false: the tokens issued through the key live out their lifetime (default true).",
            )
        ],
        responses={
            204: OpenApiResponse(description="Revoked."),
            409: _conflict("The last live credential", str(LastLiveCredential())),
            **errors(400, 401, 403, 404),
            403: ACCESS_FORBIDDEN,
        },
    ),
)

FEDERATED_CREDENTIAL_EXAMPLE = APPLICATION_DETAIL_EXAMPLE.value["federatedCredentials"][0]

application_federated_credentials = extend_schema_view(
    post=extend_schema(
        operation_id="applications_federated_credentials_create",
        summary="Add a federated credential",
        description="The application then gets access tokens for the tokens an OpenID Connect issuer gives a "
        "workload (a GitHub Actions job, a GitLab CI job, a Kubernetes service account): at `POST /oauth/token`, "
        "`client_id` with `client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer` and the "
        "workload's token as `client_assertion`, when its `iss` equals `issuer`, its `sub` equals `subject` "
        "(exactly: no wildcards), its `aud` is or holds `audience` (by default the portal's issuer), it is "
        "unexpired and a key the issuer publishes verifies it; each token is traded once. `issuer` is an https URL "
        "without query or fragment (at most 255 characters) whose discovery document "
        "(`/.well-known/openid-configuration`) and `jwks_uri` are read now, from a public address, within 3 seconds "
        "and 64 KiB each and without redirects: one that cannot be read is a 400 naming the URL tried. At most 20 per "
        "application, none twice (409). A client may add them to its own application or to one whose scopes are all "
        "among its own; any other is 403.",
        request=FederatedCredentialCreateSerializer,
        responses={
            201: FederatedCredentialSerializer,
            409: _error_response(
                409,
                "Twenty federated credentials already, or the same issuer, subject and audience already",
                "Twenty already",
                str(FederatedCredentialLimitReached()),
                extra=[("The same one twice", str(DuplicateFederatedCredential()))],
            ),
            **errors(400, 401, 403, 404, 413, 415),
            403: ACCESS_FORBIDDEN,
        },
        examples=[
            OpenApiExample(
                "A GitHub Actions workflow on main",
                value={
                    "name": "Deploy from main",
                    "issuer": "https://token.actions.githubusercontent.com",
                    "subject": "repo:octo-org/octo-repo:ref:refs/heads/main",
                },
                request_only=True,
            ),
            OpenApiExample(
                "A Kubernetes service account",
                value={
                    "name": "Sync job",
                    "issuer": "https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE",
                    "subject": "system:serviceaccount:sync:portal-client",
                    "audience": "https://portal.example",
                },
                request_only=True,
            ),
            OpenApiExample(
                "New federated credential", value=FEDERATED_CREDENTIAL_EXAMPLE, response_only=True, status_codes=["201"]
            ),
            OpenApiExample(
                "An issuer that cannot be read",
                value={
                    "issuer": [
                        "The issuer's keys could not be read: https://issuer.example/.well-known/openid-configuration "
                        "answered 404."
                    ]
                },
                response_only=True,
                status_codes=["400"],
            ),
        ],
    ),
)

application_federated_credential = extend_schema_view(
    delete=extend_schema(
        operation_id="applications_federated_credentials_destroy",
        summary="Revoke a federated credential",
        description="The federated credential stops authenticating at once, and every access token issued through it "
        "ends unless `revokeTokens=false`; a revoked or unknown one is 404. The application's last live credential "
        "(secret, key or federated credential) cannot be revoked (409). A client may revoke the federated credentials "
        "of its own application or of one whose scopes are all among its own; any other is 403.",
        parameters=[
            OpenApiParameter(
                "revokeTokens",
                bool,
                description="false: the tokens issued through it live out their lifetime (default true).",
            )
        ],
        responses={
            204: OpenApiResponse(description="Revoked."),
            409: _conflict("The last live credential", str(LastLiveCredential())),
            **errors(400, 401, 403, 404),
            403: ACCESS_FORBIDDEN,
        },
    ),
)

organization_detail = extend_schema_view(
    get=_read(
        "organization_retrieve",
        "Read the organization",
        OrganizationSerializer,
        OpenApiExample(
            "Organization",
            value={
                "id": examples.ORGANIZATION_ID,
                "name": "Acme Corp",
                "slug": "acme-corp",
                "createdAt": "2026-01-01T12:00:00Z",
            },
            response_only=True,
        ),
        description="The organization the access token belongs to.",
        error_codes=(401, 403),
    ),
)
