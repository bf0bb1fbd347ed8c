from rest_framework.permissions import BasePermission

from api.exceptions import InsufficientScope
from applications import scopes as catalog

# Which catalog action a request method needs; HEAD reads like GET.
_ACTIONS = {"GET": "read", "HEAD": "read", "POST": "create", "PATCH": "update", "DELETE": "delete"}
_SCOPES = {tuple(name.split(":", 1)): name for name in catalog.SCOPES}


def scope_for(action: str, resource: str) -> str:
    """The catalog's scope for an action on a resource ("" when the catalog has none)."""
    return _SCOPES.get((action, resource), "")


def required_scope(view, method: str) -> str | None:
    """The catalog scope that `method` on `view` needs, or None when the view does not serve the method."""
    method = method.upper()
    if method.lower() not in view.http_method_names or not hasattr(view, method.lower()):
        return None
    # A view whose methods change another resource's state names their actions (POST a secret updates its application).
    action = getattr(view, "scope_actions", {}).get(method) or _ACTIONS.get(method)
    if action is None:
        return None
    return scope_for(action, getattr(view, "scope_resource", ""))


class HasRequiredScope(BasePermission):
    """One rule for the whole API: the token must hold the catalog scope of the view's resource and method."""

    def has_permission(self, request, view):
        token = request.auth
        if token is None:
            return False
        scope = required_scope(view, request.method)
        if scope is None:
            return True  # the view answers 405
        if not scope or scope not in token.scope.split():
            # An empty scope is a served method the catalog has no scope for: closed, never open.
            raise InsufficientScope(scope)
        return True
