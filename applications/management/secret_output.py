"""What createapplication, rotatesecret and addkey share: the organization and application look-ups, the expiry
argument, refusals and printing a secret once."""

import json

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError
from django.db.models import Q

from applications.lifetimes import EXPIRES_IN_DAYS
from applications.oauth.endpoints import token_endpoint
from applications.selectors import applications_for
from portal.names import name_digest
from portal.selectors import find_organization


def add_output_arguments(parser) -> None:
    parser.add_argument("--json", action="store_true", help="Print one JSON object.")
    parser.add_argument(
        "--base-url",
        default="",
        help="Origin for token_endpoint (default: PUBLIC_BASE_URL or http://127.0.0.1:8000).",
    )


def organization_named(name: str):
    organization = find_organization(name)
    if organization is None:
        raise CommandError(f"No organization named {name!r}.")
    return organization


def application_named(organization, name: str):
    """The organization's application with this name, as the portal tells names apart (NFKC, any case), or client
    ID."""
    found = applications_for(organization).filter(Q(name_key=name_digest(name)) | Q(client_id=name)).first()
    if found is None:
        raise CommandError(f"No application named {name!r} in {organization.name!r}.")
    return found


# Spelled as in the portal's form. Named for argparse's error: "invalid expires_in_days value: 'x'".
def expires_in_days(value: str) -> int | None:
    return EXPIRES_IN_DAYS.parse(value)


def refusal(error: ValidationError) -> CommandError:
    return CommandError(" ".join(f"{field}: {' '.join(msgs)}" for field, msgs in error.message_dict.items()))


def token_endpoint_for(base_url: str) -> str:
    return token_endpoint((base_url or settings.PUBLIC_BASE_URL or "http://127.0.0.1:8000").rstrip("/"))


def print_once(stdout, *, headline: str, result: dict, as_json: bool) -> None:
    """`result` as one JSON object, or as lines under `headline` with the reminder that the secret is not kept."""
    if as_json:
        stdout.write(json.dumps(result))
        return
    stdout.write(headline)
    for key, value in result.items():
        stdout.write(f"{key}: {value}")
    stdout.write("The client secret is shown this once; only its hash is stored.")
