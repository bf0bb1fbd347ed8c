"""Who acts on an organization, declared by each entry point, and the rules for who may change it."""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied


@dataclass(frozen=True)
class Actor:
    """A signed-in member, an API client (an application), the command line, or the server itself.

    Services take one explicitly: trust comes from the kind of actor, never from an argument left out.
    """

    label: str
    address: str | None = None
    membership: object = None  # a member acting in the browser
    application: object = None  # an API client acting with its token
    trusted: bool = False  # the command line: whoever runs manage.py already owns the server

    @property
    def user(self):
        return self.membership.user if self.membership is not None else None

    @classmethod
    def for_member(cls, membership, address: str | None = None) -> "Actor":
        return cls(label=membership.user.get_username(), membership=membership, address=address)

    @classmethod
    def member(cls, request) -> "Actor":
        """The signed-in user, in the membership `member_required` set on the request."""
        return cls.for_member(request.membership, client_address(request))

    @classmethod
    def client(cls, request) -> "Actor":
        """The application whose bearer token authenticated this API request."""
        application = request.auth.application
        return cls(label=f"API client “{application.name}”", application=application, address=client_address(request))

    @classmethod
    def server(cls, label: str, address: str | None = None) -> "Actor":
        """An event the server records on its own (a lockout, say); it may change nothing."""
        return cls(label=label, address=address)


COMMAND_LINE = Actor(label="command line", trusted=True)


def client_address(request) -> str | None:
    # The one client address of contract §11: the first middleware wrote it over the peer's (TRUSTED_PROXIES).
    return request.META.get("REMOTE_ADDR") or None


def may_administer(actor: Actor, organization) -> bool:
    """Whether the actor may create, change or delete what belongs to the organization.

    Admins of that organization may; so may its own API clients, whose scopes the API has already checked.
    """
    if actor.trusted:
        return True
    if actor.membership is not None:
        return actor.membership.organization_id == organization.pk and actor.membership.is_admin
    if actor.application is not None:
        return actor.application.organization_id == organization.pk
    return False


def require_admin(actor: Actor, organization) -> None:
    if not may_administer(actor, organization):
        raise PermissionDenied("Only the organization's admins may do this.")


def may_change_access(actor: Actor, application) -> bool:
    """Whether the actor may change how the application gets tokens and what they are: its credentials (secrets,
    keys, federated credentials), its token lifetime, its networks, whether it is suspended.

    Admins may; an API client only for itself or for an application whose scopes are all among its own, or a
    secret it minted for a sibling would give it the sibling's scopes.
    """
    if not may_administer(actor, application.organization):
        return False
    client = actor.application
    if client is None or client.pk == application.pk:
        return True
    return set(application.scope_list) <= set(client.scope_list)


class ScopeEscalation(PermissionDenied):
    def __init__(self):
        super().__init__(
            "An API client may change the credentials, the token lifetime, the allowed networks or the suspension "
            "only of its own application, or of one whose scopes are all among its own."
        )


def require_no_escalation(actor: Actor, application) -> None:
    require_admin(actor, application.organization)
    if not may_change_access(actor, application):
        raise ScopeEscalation()
