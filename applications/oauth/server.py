from urllib.parse import urlsplit

from oauthlib.oauth2 import BackendApplicationServer
from oauthlib.oauth2.rfc6749 import errors

from applications.oauth.endpoints import token_audience


def issuer(request) -> str:
    """The issuer of an oauthlib request: the backend hands oauthlib the public origin
    (PUBLIC_BASE_URL, else the request's) as the base of the URI."""
    parts = urlsplit(request.uri)
    return f"{parts.scheme}://{parts.netloc}"


def check_audience(request):
    audience = getattr(request, "audience", None)
    if audience is None:
        return
    expected = token_audience(issuer(request))
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
        self.credentials_grant.custom_validators.post_token.append(check_audience)

    def validate_revocation_request(self, request):
        self._validate_client_token_request(request)

    def validate_introspect_request(self, request):
        self._validate_client_token_request(request)

    def _validate_client_token_request(self, request):
        """Revocation and introspection: the client authenticates first, and token_type_hint is never checked.

        oauthlib checks for the token before the client, so a wrong secret without a token would
        escape the brute-force count, and it refuses hints it knows but the server does not
        support ("refresh_token"); RFC 7009 §2.1 and RFC 7662 §2.1 make the hint a hint only.
        """
        self._raise_on_bad_method(request)
        self._raise_on_bad_post_request(request)
        # RFC 6749 §3.2: no parameter more than once (oauthlib checks this for grants only).
        repeated = sorted(set(request.duplicate_params) & {"token", "token_type_hint", "client_id", "client_secret"})
        if repeated:
            raise errors.InvalidRequestError(description=f"Duplicate {', '.join(repeated)} parameter.", request=request)
        self._raise_on_invalid_client(request)
        self._raise_on_missing_token(request)
