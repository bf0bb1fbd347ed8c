"""Reference views for the benchmark, served only when settings.BENCHMARK_VIEWS is on."""

from functools import cached_property

from oauth2_provider.contrib.rest_framework import OAuth2Authentication, TokenHasScope
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from api.views import CredentialListApi
from portal.models import Organization

# bench/run.py creates it through the services before it starts the server.
BENCH_ORGANIZATION_SLUG = "bench-corp"


class PingApi(APIView):
    """(A) The ceiling of this stack: Django and DRF with no authentication and no database query."""

    authentication_classes = []
    permission_classes = [AllowAny]

    def get(self, request):
        return Response({"status": "ok"})


_bench_organization = None


def bench_organization() -> Organization:
    # Loaded once per process: A2 must cost only the endpoint's own work, which B's token
    # lookup already includes the organization in.
    global _bench_organization
    if _bench_organization is None:
        _bench_organization = Organization.objects.get(slug=BENCH_ORGANIZATION_SLUG)
    return _bench_organization


class OpenCredentialListApi(CredentialListApi):
    """(A2) The very view of GET /api/credentials with authentication and permission switched off."""

    authentication_classes = []
    permission_classes = [AllowAny]
    http_method_names = ["get"]

    @cached_property
    def organization(self):
        return bench_organization()


class StockToolkitApi(APIView):
    """(S) An empty view behind django-oauth-toolkit's stock authentication and scope check.

    What a toolkit user gets out of the box for a scoped endpoint, with no data to serve:
    the yardstick for the real GET /api/credentials (B).
    """

    authentication_classes = [OAuth2Authentication]
    permission_classes = [TokenHasScope]
    required_scopes = ["read:credentials"]

    def get(self, request):
        return Response([])
