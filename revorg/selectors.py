"""Reads for tenancy."""

from .models import ApiKey, Workspace, WorkspaceMembership
from .services import API_KEY_PREFIX, hash_api_key


def api_key_get_active(*, raw_key: str) -> ApiKey | None:
    """The key with its workspace. Every API request runs this, so it is two indexed raw
    (portable) queries: building them with the ORM took longer than running them."""
    if not raw_key.startswith(API_KEY_PREFIX) or len(raw_key) > 200:
        return None
    api_key = _first_raw(
        ApiKey,
        "SELECT * FROM revorg_apikey WHERE hashed_key = %s AND revoked_at IS NULL",
        [hash_api_key(raw_key)],
    )
    if api_key is not None:
        api_key.workspace = _first_raw(
            Workspace, "SELECT * FROM revorg_workspace WHERE id = %s", [api_key.workspace_id]
        )
    return api_key


def _first_raw(model, sql: str, params: list):
    return next(iter(model.objects.raw(sql, params)), None)


def membership_list_for_user(*, user) -> list[WorkspaceMembership]:
    if not getattr(user, "is_authenticated", False):
        return []
    return list(
        WorkspaceMembership.objects.select_related("workspace")
        .filter(user=user)
        .order_by("workspace__name")
    )


def membership_for_user(*, user, workspace_id: int | None) -> WorkspaceMembership | None:
    """The membership for the chosen workspace, else the user's first one."""
    memberships = membership_list_for_user(user=user)
    for membership in memberships:
        if membership.workspace_id == workspace_id:
            return membership
    return memberships[0] if memberships else None


def workspace_get_by_slug(*, slug: str) -> Workspace | None:
    return Workspace.objects.filter(slug=slug).first()
