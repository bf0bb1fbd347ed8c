"""The one scope catalog: every scope the API knows, grouped by resource.

The toolkit's scopes backend, the creation form, the API's permission and the
OpenAPI schema all read this module; nothing else lists scopes.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Scope:
    name: str
    description: str


@dataclass(frozen=True)
class ScopeGroup:
    resource: str
    label: str
    scopes: tuple[Scope, ...]


CATALOG: tuple[ScopeGroup, ...] = (
    ScopeGroup(
        "credentials",
        "Credentials",
        (
            Scope("read:credentials", "List and read the organization's verifiable credentials."),
            Scope("create:credentials", "Store new verifiable credentials."),
            Scope("update:credentials", "Change a credential's visibility."),
            Scope("delete:credentials", "Delete verifiable credentials."),
        ),
    ),
    ScopeGroup(
        "applications",
        "Applications",
        (
            Scope("read:applications", "List and read the organization's applications (never their secrets)."),
            Scope("update:applications", "Rename applications and change their descriptions."),
            Scope("delete:applications", "Delete applications and revoke their tokens."),
        ),
    ),
    ScopeGroup(
        "organizations",
        "Organization",
        (Scope("read:organizations", "Read the organization's profile."),),
    ),
)

SCOPES: dict[str, str] = {scope.name: scope.description for group in CATALOG for scope in group.scopes}


def in_catalog_order(names) -> list[str]:
    """The given scope names, deduplicated, in the catalog's order."""
    wanted = set(names)
    return [name for name in SCOPES if name in wanted]
