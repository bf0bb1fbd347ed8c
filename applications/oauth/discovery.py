"""RFC 8414 authorization server metadata: where a client finds the token, revocation and introspection endpoints."""

from django.conf import settings
from django.http import JsonResponse
from django.utils.cache import patch_vary_headers
from django.views.decorators.cache import cache_control

from applications import scopes as catalog
from applications.keys import SIGNING_ALGORITHMS
from applications.oauth.endpoints import introspection_endpoint, revocation_endpoint, token_endpoint
from portal.origin import public_origin

# Every endpoint authenticates its client the same ways (contract §4, and §10's client assertions).
CLIENT_AUTH_METHODS = ("client_secret_basic", "client_secret_post", "private_key_jwt")


def authorization_server_metadata(*, issuer: str) -> dict:
    methods = list(CLIENT_AUTH_METHODS)
    return {
        "issuer": issuer,
        "token_endpoint": token_endpoint(issuer),
        "revocation_endpoint": revocation_endpoint(issuer),
        "introspection_endpoint": introspection_endpoint(issuer),
        "grant_types_supported": ["client_credentials"],
        # No authorization endpoint: this server issues tokens to clients only, never through a browser.
        "response_types_supported": [],
        "token_endpoint_auth_methods_supported": methods,
        "revocation_endpoint_auth_methods_supported": methods,
        "introspection_endpoint_auth_methods_supported": methods,
        "token_endpoint_auth_signing_alg_values_supported": list(SIGNING_ALGORITHMS),
        "scopes_supported": list(catalog.SCOPES),
    }


# The document changes only with a deployment's settings: caches and clients may keep it for an hour.
@cache_control(public=True, max_age=3600)
def metadata_view(request):
    """GET /.well-known/oauth-authorization-server: built from settings and the request alone, no database query."""
    if request.method not in ("GET", "HEAD"):
        response = JsonResponse({"detail": f'Method "{request.method}" not allowed.'}, status=405)
        response["Allow"] = "GET, HEAD"
        return response
    response = JsonResponse(authorization_server_metadata(issuer=public_origin(request)))
    if not settings.PUBLIC_BASE_URL:
        # Built from the Host header: a shared cache must not hand one host's document to another.
        patch_vary_headers(response, ["Host"])
    return response
