"""The OAuth 2.0 server around django-oauth-toolkit, one concept a module.

hashers         the client-secret hasher (settings.PASSWORD_HASHERS, CLIENT_SECRET_HASHER)
scopes          which scopes an application may ask for (SCOPES_BACKEND_CLASS)
server          the client-credentials-only oauthlib server and its extra checks (OAUTH2_SERVER_CLASS)
validator       the toolkit's validator on its public hooks: the credentials the backend read, checked once
                (OAUTH2_VALIDATOR_CLASS)
authentication  the one strict reading of a request's client credentials, and the ClientAuthentication handed
                from the backend (which counts it) to its validator (which checks it)
assertions      client assertions (private_key_jwt): the signature, each key family's algorithms, the claims
federated       workload tokens (federated credentials): matched exactly against an application's, verified with
                a key their issuer publishes (applications.issuers)
request         token, revocation and introspection requests: strict body parsing and the brute-force limits
                (OAUTH2_BACKEND_CLASS)
reads           hand-written SELECTs for the token endpoint, the bearer check and introspection
discovery       the authorization server metadata (RFC 8414)
endpoints       the endpoints' and the API's URLs under an origin, reversed from the URLconf
views           POST /oauth/token, /oauth/revoke and /oauth/introspect
urls            the /oauth/ endpoints
"""
