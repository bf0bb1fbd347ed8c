from oauth2_provider.contrib.rest_framework import OAuth2Authentication
from rest_framework.exceptions import AuthenticationFailed

from applications.oauth.reads import active_access_token
from applications.services import record_use
from portal.actors import client_address


class BearerTokenAuthentication(OAuth2Authentication):
    """`Authorization: Bearer` only: a token in the query string or the body never authenticates.

    A client-credentials token has no user, so this yields (None, token) and the
    token's application names the tenant.
    """

    def authenticate(self, request):
        scheme, _, credentials = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        if scheme.lower() != "bearer":
            return None
        access_token = active_access_token(credentials.strip())
        if access_token is None or not self._usable_here(access_token, request):
            request.oauth2_error = {"error": "invalid_token"}
            raise AuthenticationFailed("The access token is invalid, expired or revoked.", code="invalid_token")
        record_use(access_token.application)
        return None, access_token

    @staticmethod
    def _usable_here(access_token, request) -> bool:
        # RFC 8707: a token issued for named resources is good only at those.
        if access_token.resource and not access_token.allows_audience(request.build_absolute_uri(request.path)):
            return False
        # A suspended application's tokens, or any from outside its allowed networks, are refused (contract §11).
        application = access_token.application
        return application.is_usable(request) and application.admits(client_address(request))

    def authenticate_header(self, request):
        # RFC 6750 §3: the error attribute only when a token was sent and refused.
        challenge = f'Bearer realm="{self.www_authenticate_realm}"'
        error = getattr(request, "oauth2_error", {}).get("error")
        return f'{challenge}, error="{error}"' if error else challenge
