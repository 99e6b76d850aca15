"""Reads for tenancy."""

from .models import ApiKey, UserPreference, Workspace, WorkspaceMembership
from .rawsql import hot_cursor, rows_load
from .services import API_KEY_PREFIX, hash_api_key


def api_key_get_active(*, raw_key: str) -> ApiKey | None:
    """The key with its workspace, in one indexed raw (portable) query: every API request
    runs this. The workspace comes with the fields requests read; any other is loaded if
    touched (Django's deferred fields)."""
    if not raw_key.startswith(API_KEY_PREFIX) or len(raw_key) > 200:
        return None
    columns = [f"k.{name}" for name in API_KEY_FIELDS] + [f"w.{n}" for n in WORKSPACE_FIELDS]
    with hot_cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(columns)} FROM revorg_apikey k "
            "JOIN revorg_workspace w ON w.id = k.workspace_id "
            "WHERE k.hashed_key = %s AND k.revoked_at IS NULL",
            [hash_api_key(raw_key)],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    split = len(API_KEY_FIELDS)
    [api_key] = rows_load(ApiKey, API_KEY_FIELDS, [row[:split]])
    [api_key.workspace] = rows_load(Workspace, WORKSPACE_FIELDS, [row[split:]])
    return api_key


API_KEY_FIELDS = tuple(f.attname for f in ApiKey._meta.concrete_fields)
WORKSPACE_FIELDS = ("id", "slug", "name", "default_member_id")


def membership_list_for_user(*, user) -> list[WorkspaceMembership]:
    if not getattr(user, "is_authenticated", False):
        return []
    return list(
        WorkspaceMembership.objects.select_related("workspace")
        .filter(user=user, is_active=True)
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


def user_timezone_get(*, user) -> str:
    """The zone the person chose (or their browser reported), "" when none yet."""
    return UserPreference.objects.filter(user=user).values_list("timezone", flat=True).first() or ""
