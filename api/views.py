from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.csrf import csrf_exempt
from rest_framework import generics, mixins, status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from api import postman, schema, serializers
from api.pagination import Pagination
from api.selectors import CREDENTIAL_PAGE_COLUMNS, credential_page, credentials_for, get_credential
from api.services import create_credential, delete_credential, update_credential
from applications.models import Application
from applications.selectors import (
    applications_for,
    get_application,
    get_federated_credential,
    get_unrevoked_key,
    get_unrevoked_secret,
)
from applications.services import (
    DuplicateFederatedCredential,
    DuplicateKey,
    FederatedCredentialLimitReached,
    KeyLimitReached,
    LastLiveCredential,
    SecretLimitReached,
    add_federated_credential,
    add_key,
    delete_application,
    revoke_federated_credential,
    revoke_key,
    revoke_secret,
    rotate_secret,
    update_application,
)
from portal.actors import Actor
from portal.origin import public_origin


class OrganizationScopedApi(generics.GenericAPIView):
    """Base of every API view: the token's application and its organization are the caller and the tenant."""

    # Read by the permission: the catalog scope of each method is `<action>:<scope_resource>`.
    scope_resource: str
    # No PUT, and no OPTIONS description of the view: both answer 405.
    http_method_names = ["get", "post", "patch", "delete", "head"]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        # One value per parameter: a repeated one would mean whichever the reader takes, first or last.
        repeated = sorted(name for name, values in request.query_params.lists() if len(values) > 1)
        if repeated:
            raise ValidationError({name: ["Give this parameter only once."] for name in repeated})

    @property
    def application(self):
        return self.request.auth.application

    @property
    def organization(self):
        return self.request.auth.application.organization

    @property
    def actor(self) -> Actor:
        return Actor.client(self.request)


# The organization's objects, newest first, a page at a time. No docstring here or below: drf-spectacular
# shows a view's docstring as the description of operations that have none.
class OrganizationListApi(mixins.ListModelMixin, OrganizationScopedApi):
    pagination_class = Pagination
    # The organization's objects as a queryset.
    selector: staticmethod

    def get_queryset(self):
        return self.selector(self.organization)

    def get(self, request):
        return self.list(request)


# One object of the organization, named by its public id in the URL: read it, change it, delete it.
class OrganizationObjectApi(OrganizationScopedApi):
    update_serializer_class: type
    # Finds the object in the organization, or raises Http404.
    selector: staticmethod

    def get_object(self):
        return self.selector(organization=self.organization, public_id=self.kwargs["public_id"])

    def get(self, request, public_id):
        return Response(self.get_serializer(self.get_object()).data)

    def patch(self, request, public_id):
        instance = self.get_object()
        serializer = self.update_serializer_class(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        return Response(self.get_serializer(self.perform_update(instance, serializer.validated_data)).data)

    def delete(self, request, public_id):
        self.perform_destroy(self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


@schema.credential_list
class CredentialListApi(OrganizationListApi):
    scope_resource = "credentials"
    serializer_class = serializers.CredentialSerializer
    selector = staticmethod(credentials_for)
    # The serializer's representation of credential_page()'s rows: twenty model instances and DRF's
    # field-by-field serializing cost more than the query.
    page_rows = serializers.PlainRows(serializer_class, CREDENTIAL_PAGE_COLUMNS)

    def get(self, request):
        pagination = self.paginator
        number = pagination.plain_page_number(request)
        if number is None:
            return self.list(request)
        size = pagination.get_page_size(request)
        count, rows = credential_page(organization=self.organization, offset=(number - 1) * size, limit=size)
        if count is None and number > 1:
            return self.list(request)  # past the end: DRF's own 404
        results = self.page_rows(rows)
        return pagination.paginated_rows(request, number=number, size=size, count=count or 0, results=results)

    def post(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        credential = create_credential(
            organization=self.organization, application=self.application, **serializer.validated_data
        )
        return Response(self.get_serializer(credential).data, status=status.HTTP_201_CREATED)


@schema.credential_detail
class CredentialDetailApi(OrganizationObjectApi):
    scope_resource = "credentials"
    serializer_class = serializers.CredentialSerializer
    update_serializer_class = serializers.CredentialUpdateSerializer
    selector = staticmethod(get_credential)

    def perform_update(self, credential, data):
        return update_credential(credential=credential, visibility=data.get("visibility"))

    def perform_destroy(self, credential):
        delete_credential(credential=credential)


@schema.application_list
class ApplicationListApi(OrganizationListApi):
    scope_resource = "applications"
    serializer_class = serializers.ApplicationSerializer
    selector = staticmethod(applications_for)


@schema.application_detail
class ApplicationDetailApi(OrganizationObjectApi):
    scope_resource = "applications"
    serializer_class = serializers.ApplicationDetailSerializer
    update_serializer_class = serializers.ApplicationUpdateSerializer
    selector = staticmethod(get_application)

    def perform_update(self, application, data):
        # A rule the service enforces (a name already taken) is a 400 through api.exceptions.
        return update_application(application=application, actor=self.actor, **data)

    def perform_destroy(self, application):
        delete_application(application=application, actor=self.actor)


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


@schema.application_secrets
class SecretCreateApi(OrganizationScopedApi):
    scope_resource = "applications"
    # Generating a secret changes its application: update:applications, as the contract says.
    scope_actions = {"POST": "update"}
    serializer_class = serializers.NewSecretSerializer
    http_method_names = ["post"]

    def post(self, request, public_id):
        application = get_application(organization=self.organization, public_id=public_id)
        serializer = serializers.SecretCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            secret, plaintext = rotate_secret(application=application, actor=self.actor, **serializer.validated_data)
        except SecretLimitReached as refused:
            raise Conflict(str(refused))
        except Application.DoesNotExist:  # deleted meanwhile
            raise Http404
        secret.clientSecret = plaintext
        response = Response(serializers.NewSecretSerializer(secret).data, status=status.HTTP_201_CREATED)
        # The only answer that ever holds this secret: no cache may keep it.
        add_never_cache_headers(response)
        return response


class ApplicationCredentialApi(OrganizationScopedApi):
    """DELETE one credential of an application, a secret, a key or a federated credential (contract §6, §10): its
    tokens too unless `?revokeTokens=false`; 409 for the last live credential, 404 once revoked."""

    scope_resource = "applications"
    scope_actions = {"DELETE": "update"}
    http_method_names = ["delete"]
    # The URL's name for the credential's id.
    lookup_url_kwarg = "credential_id"

    def find(self, application, public_id):
        raise NotImplementedError

    def revoke(self, credential, *, revoke_tokens: bool) -> int:
        raise NotImplementedError

    def delete(self, request, public_id, **ids):
        revoke_tokens = _revoke_tokens(request)
        application = get_application(organization=self.organization, public_id=public_id)
        credential = self.find(application, ids[self.lookup_url_kwarg])
        try:
            self.revoke(credential, revoke_tokens=revoke_tokens)
        except LastLiveCredential as refused:
            raise Conflict(str(refused))
        except ObjectDoesNotExist:  # revoked or deleted meanwhile
            raise Http404
        return Response(status=status.HTTP_204_NO_CONTENT)


@schema.application_secret
class SecretDetailApi(ApplicationCredentialApi):
    lookup_url_kwarg = "secret_id"

    def find(self, application, public_id):
        # An expired secret too: revoking it ends the tokens it issued.
        return get_unrevoked_secret(application=application, public_id=public_id)

    def revoke(self, secret, *, revoke_tokens):
        return revoke_secret(secret=secret, actor=self.actor, revoke_tokens=revoke_tokens)


def _revoke_tokens(request) -> bool:
    revoke_tokens = request.query_params.get("revokeTokens", "true")
    if revoke_tokens not in ("true", "false"):
        raise ValidationError({"revokeTokens": ["Give true or false."]})
    return revoke_tokens == "true"


# The service's field names, as the API spells them.
_KEY_FIELDS = {"public_key": "publicKey", "expires_in_days": "expiresInDays"}


@schema.application_keys
class KeyCreateApi(OrganizationScopedApi):
    scope_resource = "applications"
    scope_actions = {"POST": "update"}
    serializer_class = serializers.KeySerializer
    http_method_names = ["post"]

    def post(self, request, public_id):
        application = get_application(organization=self.organization, public_id=public_id)
        serializer = serializers.KeyCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            key = add_key(application=application, actor=self.actor, **serializer.validated_data)
        except DjangoValidationError as error:
            raise ValidationError(
                {_KEY_FIELDS.get(name, name): messages for name, messages in error.message_dict.items()}
            )
        except (KeyLimitReached, DuplicateKey) as refused:
            raise Conflict(str(refused))
        except Application.DoesNotExist:  # deleted meanwhile
            raise Http404
        return Response(serializers.KeySerializer(key).data, status=status.HTTP_201_CREATED)


@schema.application_key
class KeyDetailApi(ApplicationCredentialApi):
    lookup_url_kwarg = "key_id"

    def find(self, application, public_id):
        return get_unrevoked_key(application=application, public_id=public_id)

    def revoke(self, key, *, revoke_tokens):
        return revoke_key(key=key, actor=self.actor, revoke_tokens=revoke_tokens)


@schema.application_federated_credentials
class FederatedCredentialCreateApi(OrganizationScopedApi):
    scope_resource = "applications"
    scope_actions = {"POST": "update"}
    serializer_class = serializers.FederatedCredentialSerializer
    http_method_names = ["post"]

    def post(self, request, public_id):
        application = get_application(organization=self.organization, public_id=public_id)
        serializer = serializers.FederatedCredentialCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        # Left out, the audience is the portal's issuer (contract §7), as the portal's form fills it in.
        data.setdefault("audience", public_origin(request))
        try:
            credential = add_federated_credential(application=application, actor=self.actor, **data)
        except (FederatedCredentialLimitReached, DuplicateFederatedCredential) as refused:
            raise Conflict(str(refused))
        except Application.DoesNotExist:  # deleted meanwhile
            raise Http404
        return Response(serializers.FederatedCredentialSerializer(credential).data, status=status.HTTP_201_CREATED)


@schema.application_federated_credential
class FederatedCredentialDetailApi(ApplicationCredentialApi):
    def find(self, application, public_id):
        return get_federated_credential(application=application, public_id=public_id)

    def revoke(self, credential, *, revoke_tokens):
        return revoke_federated_credential(credential=credential, actor=self.actor, revoke_tokens=revoke_tokens)


@schema.organization_detail
class OrganizationDetailApi(OrganizationScopedApi):
    scope_resource = "organizations"
    serializer_class = serializers.OrganizationSerializer

    def get(self, request):
        return Response(self.get_serializer(self.organization).data)


@schema.hidden
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
