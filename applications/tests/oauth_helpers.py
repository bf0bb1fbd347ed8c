import base64
from urllib.parse import urlencode

FORM = "application/x-www-form-urlencoded"
# The downloaded .env file's keys, in the contract's order.
CONTRACT_KEYS = [
    "API_BASE_URL",
    "TOKEN_ENDPOINT",
    "TOKEN_AUDIENCE",
    "ORGANIZATION_ID",
    "CLIENT_ID",
    "CLIENT_SECRET",
    "SCOPES",
    "REVOCATION_ENDPOINT",
    "INTROSPECTION_ENDPOINT",
]


def basic_auth(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def request_token(client, application, secret, **params):
    """POST /oauth/token with Basic client authentication and a form body."""
    return client.post(
        "/oauth/token",
        urlencode({"grant_type": "client_credentials", **params}),
        content_type=FORM,
        HTTP_AUTHORIZATION=basic_auth(application.client_id, secret),
    )
