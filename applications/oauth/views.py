import json

from django.http import HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from oauth2_provider.oauth2_backends import get_oauthlib_core


def _json(body: str, status: int) -> HttpResponse:
    return HttpResponse(body, status=status, content_type="application/json")


# Every local of this frame and of every frame below it (the toolkit's and oauthlib's
# included) is hidden from error reports: several hold the secret or the token.
@sensitive_variables()
@csrf_exempt
@never_cache
@sensitive_post_parameters("client_secret")
def token_view(request):
    """POST /oauth/token: client credentials grants; every outcome is an RFC 6749 JSON body."""
    if request.method != "POST":
        response = _json(
            json.dumps({"error": "invalid_request", "error_description": "The token endpoint accepts POST only."}), 405
        )
        response["Allow"] = "POST"
        return response
    _, headers, body, status = get_oauthlib_core().create_token_response(request)
    response = _json(body, status)
    for name, value in headers.items():
        if name.lower() != "content-type":
            response[name] = value
    if status == 401:
        # oauthlib answers Bearer; a client authenticates here with Basic (RFC 6749 §5.2).
        response["WWW-Authenticate"] = 'Basic realm="oauth"'
    return response
