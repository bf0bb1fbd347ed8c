"""The OAuth 2.0 server around django-oauth-toolkit, one concept a module.

hashers         the client-secret hasher (settings.PASSWORD_HASHERS, CLIENT_SECRET_HASHER)
scopes          which scopes an application may ask for (SCOPES_BACKEND_CLASS)
server          the client-credentials-only oauthlib server and its extra checks (OAUTH2_SERVER_CLASS)
validator       the toolkit's validator on our lean reads and strict credentials (OAUTH2_VALIDATOR_CLASS)
authentication  the one strict reading of a request's client credentials, for limiter and validator alike
request         token, revocation and introspection requests: strict body parsing and the brute-force limits
                (OAUTH2_BACKEND_CLASS)
reads           hand-written SELECTs for the token endpoint, the bearer check and introspection
views           POST /oauth/token, /oauth/revoke and /oauth/introspect
urls            the /oauth/ endpoints
"""
