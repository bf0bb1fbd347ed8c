"""The two downloads of the one-time reveal: a `.env` file and a Postman environment."""

import json
import re
import uuid

from django.utils import timezone

from applications.oauth.endpoints import (
    api_base_url,
    introspection_endpoint,
    revocation_endpoint,
    token_audience,
    token_endpoint,
)

# Values are double-quoted; these characters would mean something else to a shell or a dotenv parser.
_UNSAFE = re.compile(r'["\\$`\n\r]')


def api_variables(*, origin: str, organization, application, secret: str) -> dict[str, str]:
    """The full set of API variables, in the order the files list them."""
    return {
        "API_BASE_URL": api_base_url(origin),
        "TOKEN_ENDPOINT": token_endpoint(origin),
        "TOKEN_AUDIENCE": token_audience(origin),
        "ORGANIZATION_ID": str(organization.public_id),
        "CLIENT_ID": application.client_id,
        "CLIENT_SECRET": secret,
        "SCOPES": application.scopes,
        "REVOCATION_ENDPOINT": revocation_endpoint(origin),
        "INTROSPECTION_ENDPOINT": introspection_endpoint(origin),
    }


def render_env(variables: dict[str, str]) -> str:
    """KEY="value" lines that python-dotenv, Node's dotenv and `set -a; . ./file` all read alike."""
    for key, value in variables.items():
        if _UNSAFE.search(value):
            raise ValueError(f"{key} holds a character that .env files cannot carry portably.")
    return "".join(f'{key}="{value}"\n' for key, value in variables.items())


def render_postman_environment(variables: dict[str, str], *, name: str) -> str:
    """A Postman v2.1 environment document holding the same variables; the secret typed as secret."""
    document = {
        "id": str(uuid.uuid4()),
        "name": name,
        "values": [
            {"key": key, "value": value, "type": "secret" if key == "CLIENT_SECRET" else "default", "enabled": True}
            for key, value in variables.items()
        ],
        "_postman_variable_scope": "environment",
        "_postman_exported_at": timezone.now().isoformat().replace("+00:00", "Z"),
        "_postman_exported_using": "Integrations Portal",
    }
    return json.dumps(document, indent=2)
