from django.conf import settings


def public_origin(request) -> str:
    """The origin written into links, downloads and audiences: PUBLIC_BASE_URL, else the request's own."""
    return settings.PUBLIC_BASE_URL or f"{request.scheme}://{request.get_host()}"
