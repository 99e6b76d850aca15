"""Who may do what in a workspace: API keys by scope, browser users by role.

A view states what an action needs with `access_rules = {"action_or_method": (scope, role)}`;
without a rule, reads need ("read", viewer) and writes need ("write", admin).
"""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from rest_framework import exceptions, permissions

from .models import ROLE_RANK, ApiKey, Role

DEFAULT_READ = ("read", Role.VIEWER)
DEFAULT_WRITE = ("write", Role.ADMIN)


def requirement_for(view, request) -> tuple[str, str]:
    rules = getattr(view, "access_rules", {})
    action = getattr(view, "action", None)
    if action and action in rules:
        return rules[action]
    if request.method in rules:
        return rules[request.method]
    return DEFAULT_READ if request.method in permissions.SAFE_METHODS else DEFAULT_WRITE


def resolve_workspace(request):
    """Binds request.workspace (and request.role for users) from the key or the session."""
    auth = getattr(request, "auth", None)
    if isinstance(auth, ApiKey):
        request.workspace = auth.workspace
        request.role = None
        return auth.workspace
    membership = getattr(request, "membership", None)
    if membership is None:
        return None
    request.workspace = membership.workspace
    request.role = membership.role
    return membership.workspace


class WorkspaceAccess(permissions.BasePermission):
    def has_permission(self, request, view):
        if not request.user or not request.user.is_authenticated:
            raise exceptions.NotAuthenticated()
        if resolve_workspace(request) is None:
            raise exceptions.PermissionDenied("You are not a member of any workspace.")
        scope, role = requirement_for(view, request)
        auth = request.auth
        if isinstance(auth, ApiKey):
            if not auth.has_scope(scope):
                raise exceptions.PermissionDenied(f"This API key lacks the '{scope}' scope.")
            return True
        if ROLE_RANK[request.role] < ROLE_RANK[role]:
            raise exceptions.PermissionDenied(f"This needs the '{role}' role in the workspace.")
        return True


def request_may(request, scope: str, role: str) -> bool:
    """Whether the request's API key has `scope`, or its user `role` or a higher one: for a
    right within an action (overriding a reassignment's checks) rather than the action's."""
    auth = getattr(request, "auth", None)
    if isinstance(auth, ApiKey):
        return auth.has_scope(scope)
    return ROLE_RANK.get(getattr(request, "role", None), -1) >= ROLE_RANK[role]


def role_required(role: str):
    """Server-side guard: hiding a link is not enough, a viewer typing the URL gets a 403."""

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if request.workspace is None or ROLE_RANK.get(request.role, -1) < ROLE_RANK[role]:
                raise PermissionDenied(f"this page needs the {role} role")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
