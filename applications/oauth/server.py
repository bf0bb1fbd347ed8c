from urllib.parse import urlsplit

from oauthlib.oauth2 import BackendApplicationServer
from oauthlib.oauth2.rfc6749 import errors

from portal.origin import token_audience


def check_audience(request):
    audience = getattr(request, "audience", None)
    if audience is None:
        return
    parts = urlsplit(request.uri)
    expected = token_audience(f"{parts.scheme}://{parts.netloc}")
    if audience != expected:
        raise errors.CustomOAuth2Error(
            error="invalid_target",
            description=f"audience must be {expected}.",
            status_code=400,
            request=request,
        )


class ClientCredentialsServer(BackendApplicationServer):
    """Only the client credentials grant: no other grant's code path is reachable."""

    def __init__(self, request_validator, *args, **kwargs):
        kwargs.pop("pre_token", None)  # the toolkit's device-flow hook; no device flow here
        super().__init__(request_validator, *args, **kwargs)
        self.credentials_grant.custom_validators.post_token.append(check_audience)
