"""The answers to requests Django refuses (400), finds nothing for (404) or fails on (500): JSON where the path
speaks JSON, the portal's pages elsewhere, and the outage answer when the failure is the database going away."""

from django.http import JsonResponse
from django.views import defaults

from ops.outage import answers_json, database_error_in_flight, unavailable_response


def bad_request_view(request, exception):
    if answers_json(request):
        return JsonResponse({"detail": "Bad request."}, status=400)
    return defaults.bad_request(request, exception)


def page_not_found_view(request, exception):
    if answers_json(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)


def server_error_view(request):
    if database_error_in_flight():
        # Raised outside a view (a middleware's session or user lookup): still an outage, not a bug.
        return unavailable_response(request)
    if answers_json(request):
        return JsonResponse({"detail": "Server error."}, status=500)
    return defaults.server_error(request)
