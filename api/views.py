from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import generics, mixins, status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from api import examples, postman, schema
from api.pagination import Pagination
from api.selectors import credentials_for, get_credential
from api.serializers import (
    ApplicationDetailSerializer,
    ApplicationSerializer,
    ApplicationUpdateSerializer,
    NewSecretSerializer,
    SecretCreateSerializer,
    CredentialSerializer,
    CredentialUpdateSerializer,
    OrganizationSerializer,
)
from api.services import create_credential, delete_credential, update_credential
from applications.models import Application, ClientSecret
from applications.selectors import applications_for, get_application, get_live_secret
from applications.services import (
    LastLiveSecret,
    SecretLimitReached,
    delete_application,
    revoke_secret,
    rotate_secret,
    update_application,
)
from portal.actors import Actor


class OrganizationApi(generics.GenericAPIView):
    """Base of every API view: the token's application and its organization are the caller and the tenant."""

    # Read by the permission: the catalog scope of each method is `<action>:<scope_resource>`.
    scope_resource: str
    # No PUT, and no OPTIONS description of the view: both answer 405.
    http_method_names = ["get", "post", "patch", "delete", "head"]

    @property
    def application(self):
        return self.request.auth.application

    @property
    def organization(self):
        return self.request.auth.application.organization

    @property
    def actor(self) -> Actor:
        return Actor.client(self.request)


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


@extend_schema_view(
    get=extend_schema(
        operation_id="credentials_list",
        summary="List credentials",
        description="The organization's credentials, newest first, paginated with a total `count`.",
        responses={200: CredentialSerializer, **schema.errors(401, 403, 404)},
        examples=[CREDENTIAL_EXAMPLE],
    ),
    post=extend_schema(
        operation_id="credentials_create",
        summary="Store a credential",
        description="Checks the W3C Verifiable Credentials data model; every missing or malformed field is named.",
        request=CredentialSerializer,
        responses={201: CredentialSerializer, **schema.errors(400, 401, 403, 413, 415)},
        examples=[
            OpenApiExample(
                "A verifiable credential",
                value={"verifiableCredential": examples.VERIFIABLE_CREDENTIAL, "visibility": "private"},
                request_only=True,
            ),
            CREDENTIAL_EXAMPLE,
            schema.VALIDATION_EXAMPLE,
        ],
    ),
)
class CredentialListApi(mixins.ListModelMixin, OrganizationApi):
    scope_resource = "credentials"
    serializer_class = CredentialSerializer
    pagination_class = Pagination

    def get_queryset(self):
        return credentials_for(self.organization)

    def get(self, request):
        return self.list(request)

    def post(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        credential = create_credential(
            organization=self.organization, application=self.application, **serializer.validated_data
        )
        return Response(self.get_serializer(credential).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(
        operation_id="credentials_retrieve",
        summary="Read a credential",
        responses={200: CredentialSerializer, **schema.errors(401, 403, 404)},
        examples=[CREDENTIAL_EXAMPLE],
    ),
    patch=extend_schema(
        operation_id="credentials_update",
        summary="Change a credential's visibility",
        description="Only `visibility` changes; the stored document never does.",
        request=CredentialUpdateSerializer,
        responses={200: CredentialSerializer, **schema.errors(400, 401, 403, 404, 413, 415)},
        examples=[
            OpenApiExample("Make it public", value={"visibility": "public"}, request_only=True),
            CREDENTIAL_EXAMPLE,
        ],
    ),
    delete=extend_schema(
        operation_id="credentials_destroy",
        summary="Delete a credential",
        responses={204: OpenApiResponse(description="Deleted."), **schema.errors(401, 403, 404)},
    ),
)
class CredentialDetailApi(OrganizationApi):
    scope_resource = "credentials"
    serializer_class = CredentialSerializer

    def get_object(self):
        return get_credential(organization=self.organization, public_id=self.kwargs["public_id"])

    def get(self, request, public_id):
        return Response(self.get_serializer(self.get_object()).data)

    def patch(self, request, public_id):
        credential = self.get_object()
        serializer = CredentialUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        credential = update_credential(credential=credential, visibility=serializer.validated_data.get("visibility"))
        return Response(self.get_serializer(credential).data)

    def delete(self, request, public_id):
        delete_credential(credential=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


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
        "secrets": [
            {
                "id": examples.SECRET_ID,
                "hint": "Q7xz",
                "createdAt": "2026-01-01T12:00:00Z",
                "expiresAt": None,
                "lastUsedAt": "2026-01-02T08:30:00Z",
            }
        ],
    },
    response_only=True,
)


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


@extend_schema_view(
    get=extend_schema(
        operation_id="applications_list",
        summary="List applications",
        description="The organization's applications, newest first. Never a client secret or its hash.",
        responses={200: ApplicationSerializer, **schema.errors(401, 403, 404)},
        examples=[APPLICATION_EXAMPLE],
    ),
)
class ApplicationListApi(mixins.ListModelMixin, OrganizationApi):
    scope_resource = "applications"
    serializer_class = ApplicationSerializer
    pagination_class = Pagination

    def get_queryset(self):
        return applications_for(self.organization)

    def get(self, request):
        return self.list(request)


@extend_schema_view(
    get=extend_schema(
        operation_id="applications_retrieve",
        summary="Read an application",
        description="With its token lifetime and its live secrets (id, hint, dates); never a client secret or its "
        "hash.",
        responses={200: ApplicationDetailSerializer, **schema.errors(401, 403, 404)},
        examples=[APPLICATION_DETAIL_EXAMPLE],
    ),
    patch=extend_schema(
        operation_id="applications_update",
        summary="Rename an application, change its description or its token lifetime",
        description="Only `name`, `description` and `tokenLifetime` change; scopes are fixed at creation, and "
        "sending them is a 400. `tokenLifetime` applies to tokens issued afterwards.",
        request=ApplicationUpdateSerializer,
        responses={200: ApplicationDetailSerializer, **schema.errors(400, 401, 403, 404, 413, 415)},
        examples=[
            OpenApiExample(
                "New description",
                value={"description": "Copies credentials to the archive every night."},
                request_only=True,
            ),
            OpenApiExample("Shorter-lived tokens", value={"tokenLifetime": 900}, request_only=True),
            APPLICATION_DETAIL_EXAMPLE,
            OpenApiExample(
                "Scopes are fixed",
                value={"scopes": ["Scopes are fixed when an application is created and cannot be changed."]},
                response_only=True,
                status_codes=["400"],
            ),
        ],
    ),
    delete=extend_schema(
        operation_id="applications_destroy",
        summary="Delete an application",
        description="Its client credentials and every token it was issued stop working from the next request on.",
        responses={204: OpenApiResponse(description="Deleted."), **schema.errors(401, 403, 404)},
    ),
)
class ApplicationDetailApi(OrganizationApi):
    scope_resource = "applications"
    serializer_class = ApplicationDetailSerializer

    def get_object(self):
        return get_application(organization=self.organization, public_id=self.kwargs["public_id"])

    def get(self, request, public_id):
        return Response(self.get_serializer(self.get_object()).data)

    def patch(self, request, public_id):
        application = self.get_object()
        serializer = ApplicationUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        try:
            application = update_application(application=application, actor=self.actor, **serializer.validated_data)
        except DjangoValidationError as error:
            raise ValidationError(error.message_dict if hasattr(error, "error_dict") else error.messages)
        return Response(self.get_serializer(application).data)

    def delete(self, request, public_id):
        delete_application(application=self.get_object(), actor=self.actor)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    post=extend_schema(
        operation_id="applications_secrets_create",
        summary="Generate a new client secret",
        description="Rotation without downtime: the new secret is in this answer once (`Cache-Control: no-store`); "
        "the current live secret keeps working for `keepCurrentFor` seconds (default 86400; 0: it stops now; "
        "null: until revoked), never longer than its own expiry. An application may rotate its own secret. "
        "With two live secrets already: 409, and nothing changes.",
        request=SecretCreateSerializer,
        responses={
            201: NewSecretSerializer,
            409: OpenApiResponse(
                schema.ERROR,
                description="Two live secrets already: revoke one first.",
                examples=[
                    OpenApiExample(
                        "Two live secrets",
                        value={"detail": str(SecretLimitReached())},
                        response_only=True,
                        status_codes=["409"],
                    )
                ],
            ),
            **schema.errors(400, 401, 403, 404, 413, 415),
        },
        examples=[
            OpenApiExample(
                "Keep the current secret for a day, the new one for 90 days",
                value={"keepCurrentFor": 86400, "expiresInDays": 90},
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
class SecretListApi(OrganizationApi):
    scope_resource = "applications"
    # Generating a secret changes the application: update:applications, as the contract says.
    scope_actions = {"POST": "update"}
    serializer_class = NewSecretSerializer
    http_method_names = ["post"]

    def post(self, request, public_id):
        application = get_application(organization=self.organization, public_id=public_id)
        serializer = SecretCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            secret, plaintext = rotate_secret(application=application, actor=self.actor, **serializer.validated_data)
        except SecretLimitReached as refused:
            raise Conflict(str(refused))
        except Application.DoesNotExist:
            raise Http404
        except DjangoValidationError as error:
            raise ValidationError(error.message_dict if hasattr(error, "error_dict") else error.messages)
        secret.clientSecret = plaintext
        response = Response(NewSecretSerializer(secret).data, status=status.HTTP_201_CREATED)
        add_never_cache_headers(response)
        return response


@extend_schema_view(
    delete=extend_schema(
        operation_id="applications_secrets_destroy",
        summary="Revoke a client secret",
        description="The secret stops working at once, and so does every access token issued with it unless "
        "`revokeTokens=false`. The application's only live secret cannot be revoked (409).",
        parameters=[
            OpenApiParameter(
                "revokeTokens",
                bool,
                description="false: the tokens issued with the secret live out their lifetime (default true).",
            )
        ],
        responses={
            204: OpenApiResponse(description="Revoked."),
            409: OpenApiResponse(
                schema.ERROR,
                description="The application's only live secret.",
                examples=[
                    OpenApiExample(
                        "Only live secret",
                        value={"detail": str(LastLiveSecret())},
                        response_only=True,
                        status_codes=["409"],
                    )
                ],
            ),
            **schema.errors(400, 401, 403, 404),
        },
    ),
)
class SecretDetailApi(OrganizationApi):
    scope_resource = "applications"
    scope_actions = {"DELETE": "update"}
    http_method_names = ["delete"]

    def delete(self, request, public_id, secret_id):
        revoke_tokens = request.query_params.get("revokeTokens", "true")
        if revoke_tokens not in ("true", "false"):
            raise ValidationError({"revokeTokens": ["Give true or false."]})
        application = get_application(organization=self.organization, public_id=public_id)
        secret = get_live_secret(application=application, public_id=secret_id)
        try:
            revoke_secret(secret=secret, actor=self.actor, revoke_tokens=revoke_tokens == "true")
        except LastLiveSecret as refused:
            raise Conflict(str(refused))
        except ClientSecret.DoesNotExist:
            raise Http404
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    get=extend_schema(
        operation_id="organization_retrieve",
        summary="Read the organization",
        description="The organization the access token belongs to.",
        responses={200: OrganizationSerializer, **schema.errors(401, 403)},
        examples=[
            OpenApiExample(
                "Organization",
                value={
                    "id": examples.ORGANIZATION_ID,
                    "name": "Acme Corp",
                    "slug": "acme-corp",
                    "createdAt": "2026-01-01T12:00:00Z",
                },
                response_only=True,
            )
        ],
    ),
)
class OrganizationDetailApi(OrganizationApi):
    scope_resource = "organizations"
    serializer_class = OrganizationSerializer

    def get(self, request):
        return Response(self.get_serializer(self.organization).data)


@extend_schema(exclude=True)
class PostmanCollectionApi(APIView):
    # The collection holds no secret: anyone may download it.
    authentication_classes = []
    permission_classes = [AllowAny]
    http_method_names = ["get", "head"]

    def get(self, request):
        response = Response(postman.collection())
        response["Content-Disposition"] = f'attachment; filename="{postman.FILENAME}"'
        return response


# Any path under /api that names no operation, whatever the method: JSON like every other
# API answer, never an HTML page (CSRF's included: the API has no cookies to protect).
@csrf_exempt
def not_found_view(request, *args, **kwargs):
    return JsonResponse({"detail": "Not found."}, status=404)
