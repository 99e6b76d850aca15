"""Writes for tenancy: workspaces, memberships, API keys, audit entries."""

import hashlib
import secrets
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from .errors import ApplicationError
from .models import (
    ApiKey,
    AuditEntry,
    Role,
    Scope,
    UserPreference,
    Workspace,
    WorkspaceMembership,
)
from .zones import timezone_valid

API_KEY_PREFIX = "rvo_"


def hash_api_key(raw_key: str) -> str:
    # Keys carry 256 bits of randomness, so a fast hash is safe and keeps auth cheap per request.
    return hashlib.sha256(raw_key.encode()).hexdigest()


@transaction.atomic
def workspace_create(*, slug: str, name: str) -> Workspace:
    """The bare tenant; `console.services.workspace_setup` adds its first plan."""
    if Workspace.objects.filter(slug=slug).exists():
        raise ApplicationError(f"workspace '{slug}' already exists", field="slug")
    return Workspace.objects.create(slug=slug, name=name)


def membership_set(*, workspace: Workspace, user, role: str) -> WorkspaceMembership:
    if role not in Role.values:
        raise ApplicationError(f"unknown role '{role}'", field="role")
    membership, _ = WorkspaceMembership.objects.update_or_create(
        workspace=workspace, user=user, defaults={"role": role}
    )
    return membership


def user_ensure(*, username: str, password: str | None = None, email: str = ""):
    user_model = get_user_model()
    user, created = user_model.objects.get_or_create(username=username, defaults={"email": email})
    if password is not None and (created or not user.check_password(password)):
        user.set_password(password)
        user.save(update_fields=["password"])
    return user


@dataclass(frozen=True)
class IssuedApiKey:
    api_key: ApiKey
    raw_key: str


def parse_scopes(scopes) -> list[str]:
    if isinstance(scopes, str):
        scopes = [item.strip() for item in scopes.split(",") if item.strip()]
    unknown = sorted(set(scopes) - set(Scope.values))
    if unknown:
        raise ApplicationError(
            f"unknown scope(s): {', '.join(unknown)}; choose from {', '.join(Scope.values)}",
            field="scopes",
        )
    if not scopes:
        raise ApplicationError("at least one scope is required", field="scopes")
    return [scope for scope in Scope.values if scope in scopes]


def api_key_create(
    *, workspace: Workspace, name: str, scopes, created_by=None, actor: "Actor | None" = None
) -> IssuedApiKey:
    """Returns the raw key once; only its hash is stored. Audited: a key is a credential."""
    scope_list = parse_scopes(scopes)
    if not name or len(name) > 100:
        raise ApplicationError("name must be 1 to 100 characters", field="name")
    prefix = secrets.token_hex(4)
    raw_key = f"{API_KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    api_key = ApiKey.objects.create(
        workspace=workspace,
        name=name,
        prefix=prefix,
        hashed_key=hash_api_key(raw_key),
        scopes=scope_list,
        created_by=created_by,
    )
    audit_record(
        workspace=workspace,
        actor=actor or SYSTEM,
        action="create",
        obj=api_key,
        after=_api_key_audit_state(api_key),
    )
    return IssuedApiKey(api_key=api_key, raw_key=raw_key)


def _api_key_audit_state(api_key: ApiKey) -> dict:
    """Never the hash: an audit entry is readable by every admin."""
    return {
        "name": api_key.name,
        "prefix": api_key.prefix,
        "scopes": list(api_key.scopes),
        "revoked_at": api_key.revoked_at.isoformat() if api_key.revoked_at else None,
    }


def api_key_revoke(*, api_key: ApiKey, actor: "Actor | None" = None) -> ApiKey:
    if api_key.revoked_at is None:
        before = _api_key_audit_state(api_key)
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
        audit_record(
            workspace=api_key.workspace,
            actor=actor or SYSTEM,
            action="revoke",
            obj=api_key,
            before=before,
            after=_api_key_audit_state(api_key),
        )
    return api_key


def api_key_touch(*, api_key: ApiKey, min_interval_seconds: int = 60) -> None:
    """Keeps last_used_at fresh without a write on every request of a busy key."""
    now = timezone.now()
    last = api_key.last_used_at
    if last is None or (now - last).total_seconds() >= min_interval_seconds:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now


@dataclass(frozen=True)
class Actor:
    """Who did something: a browser user or an API key, as the audit and history record it."""

    user: object | None = None
    api_key: ApiKey | None = None

    @property
    def label(self) -> str:
        if self.api_key is not None:
            return f"api key {self.api_key.name} ({self.api_key.prefix})"
        if self.user is not None:
            return f"user {self.user.get_username()}"
        return "system"


SYSTEM = Actor()


@dataclass(frozen=True)
class SystemActor(Actor):
    """The system acting for a named reason (a request's execution, the SLA sweep): the
    history and the audit show that name instead of "system"."""

    name: str = "system"

    @property
    def label(self) -> str:
        return self.name


def actor_from_request(request) -> Actor:
    auth = getattr(request, "auth", None)
    if isinstance(auth, ApiKey):
        return Actor(api_key=auth)
    user = getattr(request, "user", None)
    if user is not None and getattr(user, "is_authenticated", False) and hasattr(user, "pk"):
        return Actor(user=user)
    return SYSTEM


def audit_record(
    *,
    workspace: Workspace,
    actor: Actor,
    action: str,
    obj,
    before: dict | None = None,
    after: dict | None = None,
) -> AuditEntry:
    return AuditEntry.objects.create(
        workspace=workspace,
        actor_user=actor.user,
        actor_api_key=actor.api_key,
        actor_label=actor.label,
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        object_repr=str(obj)[:200],
        before=before,
        after=after,
    )


def audit_request(request, *, action: str, obj, before=None, after=None) -> AuditEntry:
    """audit_record for a browser or API request: its workspace and its actor."""
    return audit_record(
        workspace=request.workspace,
        actor=actor_from_request(request),
        action=action,
        obj=obj,
        before=before,
        after=after,
    )


def _workspace_settings(workspace: Workspace, names) -> dict:
    """The settings as the audit keeps them: plain values, a member as its id."""
    return {name: getattr(workspace, workspace._meta.get_field(name).attname) for name in names}


@transaction.atomic
def workspace_update(*, workspace: Workspace, actor: Actor, **changes) -> Workspace:
    """Changes workspace settings (name, owner of last resort, ...), audited with the values
    before and after. The owner of last resort must be a member of this workspace."""
    unknown = sorted(set(changes) - {f.name for f in workspace._meta.concrete_fields})
    if unknown or {"id", "slug", "created_at"} & set(changes):
        raise ApplicationError(f"not a workspace setting: {', '.join(unknown)}", field="form")
    name = changes.get("name", workspace.name)
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        raise ApplicationError("name must be 1 to 200 characters", field="name")
    member = changes.get("default_member", workspace.default_member)
    if member is not None and member.workspace_id != workspace.pk:
        raise ApplicationError("no such member in this workspace", field="default_member")
    before = _workspace_settings(workspace, changes)
    for field, value in changes.items():
        setattr(workspace, field, value)
    workspace.save(update_fields=list(changes))
    audit_record(
        workspace=workspace,
        actor=actor,
        action="update",
        obj=workspace,
        before=before,
        after=_workspace_settings(workspace, changes),
    )
    return workspace


def user_timezone_set(*, user, timezone: str) -> UserPreference:
    """The zone a person's times are shown in. Personal, not workspace configuration: not in
    a workspace's audit log."""
    if not timezone_valid(timezone):
        raise ApplicationError(
            f"unknown time zone '{str(timezone)[:64]}'; use an IANA name such as 'Europe/Paris'",
            field="timezone",
        )
    preference, _ = UserPreference.objects.update_or_create(
        user=user, defaults={"timezone": timezone}
    )
    return preference
