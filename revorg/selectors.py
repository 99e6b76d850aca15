"""Reads for tenancy."""

from .models import ApiKey, Workspace, WorkspaceMembership
from .services import API_KEY_PREFIX, hash_api_key


def api_key_get_active(*, raw_key: str) -> ApiKey | None:
    if not raw_key.startswith(API_KEY_PREFIX) or len(raw_key) > 200:
        return None
    return (
        ApiKey.objects.select_related("workspace")
        .filter(hashed_key=hash_api_key(raw_key), revoked_at__isnull=True)
        .first()
    )


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
