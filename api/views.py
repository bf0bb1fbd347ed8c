from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import generics, mixins, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from api import postman, schema
from api.pagination import Pagination
from api.selectors import credentials_for, get_credential
from api.serializers import (
    ApplicationSerializer,
    ApplicationUpdateSerializer,
    CredentialSerializer,
    CredentialUpdateSerializer,
    OrganizationSerializer,
)
from api.services import create_credential, delete_credential, update_credential
from applications.selectors import applications_for, get_application
from applications.services import delete_application, update_application
from portal.actors import Actor


class OrganizationScopedApi(generics.GenericAPIView):
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
    serializer_class = CredentialSerializer
    selector = staticmethod(credentials_for)

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
    serializer_class = CredentialSerializer
    update_serializer_class = CredentialUpdateSerializer
    selector = staticmethod(get_credential)

    def perform_update(self, credential, data):
        return update_credential(credential=credential, visibility=data.get("visibility"))

    def perform_destroy(self, credential):
        delete_credential(credential=credential)


@schema.application_list
class ApplicationListApi(OrganizationListApi):
    scope_resource = "applications"
    serializer_class = ApplicationSerializer
    selector = staticmethod(applications_for)


@schema.application_detail
class ApplicationDetailApi(OrganizationObjectApi):
    scope_resource = "applications"
    serializer_class = ApplicationSerializer
    update_serializer_class = ApplicationUpdateSerializer
    selector = staticmethod(get_application)

    def perform_update(self, application, data):
        # A rule the service enforces (a name already taken) is a 400 through api.exceptions.
        return update_application(application=application, actor=self.actor, **data)

    def perform_destroy(self, application):
        delete_application(application=application, actor=self.actor)


@schema.organization_detail
class OrganizationDetailApi(OrganizationScopedApi):
    scope_resource = "organizations"
    serializer_class = OrganizationSerializer

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
