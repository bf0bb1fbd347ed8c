from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, mixins, status
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from api import examples, postman, schema
from api.pagination import Pagination
from api.renderers import RawJSON
from api.selectors import credential_page, credentials_for, get_credential
from api.serializers import (
    ApplicationSerializer,
    ApplicationUpdateSerializer,
    CredentialSerializer,
    CredentialUpdateSerializer,
    OrganizationSerializer,
)
from api.services import create_credential, delete_credential, update_credential
from applications.audit import Actor, client_address
from applications.selectors import applications_for, get_application
from applications.services import delete_application, update_application


def _drf_datetime(timezone_):
    """DRF's DateTimeField output for aware datetimes, with the current time zone looked up once per page."""

    def shown(value) -> str:
        text = value.astimezone(timezone_).isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    return shown


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
        return Actor(label=f"API client “{self.application.name}”", address=client_address(self.request))


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
        pagination = self.paginator
        number = pagination.plain_page_number(request)
        if number is None:
            return self.list(request)
        size = pagination.get_page_size(request)
        count, rows = credential_page(organization=self.organization, offset=(number - 1) * size, limit=size)
        if count is None and number > 1:
            return self.list(request)  # past the end: DRF's own 404
        # The fields of CredentialSerializer, from plain values: twenty model instances and
        # field-by-field serializing cost more than the query.
        created = _drf_datetime(timezone.get_current_timezone())
        results = [
            {
                "id": str(public_id),
                "verifiableCredential": RawJSON(document),
                "visibility": visibility,
                "createdAt": created(created_at),
            }
            for public_id, visibility, created_at, document in rows
        ]
        return pagination.paginated_rows(request, number=number, count=count or 0, results=results)

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
        description="Never a client secret or its hash.",
        responses={200: ApplicationSerializer, **schema.errors(401, 403, 404)},
        examples=[APPLICATION_EXAMPLE],
    ),
    patch=extend_schema(
        operation_id="applications_update",
        summary="Rename an application or change its description",
        description="Only `name` and `description` change; scopes are fixed at creation, and sending them is a 400.",
        request=ApplicationUpdateSerializer,
        responses={200: ApplicationSerializer, **schema.errors(400, 401, 403, 404, 413, 415)},
        examples=[
            OpenApiExample(
                "New description",
                value={"description": "Copies credentials to the archive every night."},
                request_only=True,
            ),
            APPLICATION_EXAMPLE,
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
    serializer_class = ApplicationSerializer

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
