from django.conf import settings


def public_origin(request) -> str:
    """The origin written into downloads and audiences: PUBLIC_BASE_URL, else the request's own."""
    return settings.PUBLIC_BASE_URL or f"{request.scheme}://{request.get_host()}"


def api_base_url(origin: str) -> str:
    return f"{origin}/api"


def token_endpoint(origin: str) -> str:
    return f"{origin}/oauth/token"


def revocation_endpoint(origin: str) -> str:
    return f"{origin}/oauth/revoke"


def introspection_endpoint(origin: str) -> str:
    return f"{origin}/oauth/introspect"


# The audience of every token is the API itself.
token_audience = api_base_url
