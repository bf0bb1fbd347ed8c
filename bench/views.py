"""Reference views for the benchmark, served only when settings.BENCHMARK_VIEWS is on."""

from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView


class PingApi(APIView):
    """(A) The ceiling of this stack: Django and DRF with no authentication and no database query."""

    authentication_classes = []
    permission_classes = [AllowAny]

    def get(self, request):
        return Response({"status": "ok"})
