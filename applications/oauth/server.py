from urllib.parse import urlsplit

from oauthlib.oauth2 import BackendApplicationServer
from oauthlib.oauth2.rfc6749 import errors

from applications.oauth.request import basic_client_id
from portal.origin import token_audience


def reject_conflicting_client_ids(request):
    # oauthlib answers this with a server_error; RFC 6749 §5.2 calls it invalid_request.
    basic_id = basic_client_id(request)
    body_client_id = request.client_id
    if basic_id is not None and body_client_id and body_client_id != basic_id:
        raise errors.InvalidRequestError(
            description="client_id in the body does not match the HTTP Basic credentials.", request=request
        )


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


def token_lifetime(request) -> int:
    """A token lives as long as its application says when it is issued (oauthlib calls this per grant)."""
    return request.client.effective_token_lifetime


class ClientCredentialsServer(BackendApplicationServer):
    """Only the client credentials grant: no other grant's code path is reachable."""

    def __init__(self, request_validator, *args, **kwargs):
        kwargs.pop("pre_token", None)  # the toolkit's device-flow hook; no device flow here
        kwargs["token_expires_in"] = token_lifetime
        super().__init__(request_validator, *args, **kwargs)
        self.credentials_grant.custom_validators.pre_token.append(reject_conflicting_client_ids)
        self.credentials_grant.custom_validators.post_token.append(check_audience)
