"""Where the OAuth endpoints and the API are, under an origin: reversed from the URLconf, never written out."""

from django.urls import reverse


def token_endpoint(origin: str) -> str:
    return origin + reverse("oauth-token")


def revocation_endpoint(origin: str) -> str:
    return origin + reverse("oauth-revoke")


def introspection_endpoint(origin: str) -> str:
    return origin + reverse("oauth-introspect")


def api_base_url(origin: str) -> str:
    # The API's root without its trailing slash, as the downloads write it (`…/api`).
    return origin + reverse("api:root").rstrip("/")


# The audience of every token is the API itself.
token_audience = api_base_url
