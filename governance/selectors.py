"""Reads for the people of a workspace."""

from django.db.models import QuerySet

from revorg.models import Role, WorkspaceMembership


def user_membership_list(*, workspace) -> QuerySet[WorkspaceMembership]:
    """Everyone of the workspace, active or not, with what the users page shows."""
    return (
        WorkspaceMembership.objects.filter(workspace=workspace)
        .select_related("user", "member", "territory")
        .order_by("user__email", "user__username", "pk")
    )


def active_admin_count(*, workspace) -> int:
    return WorkspaceMembership.objects.filter(
        workspace=workspace, role=Role.ADMIN, is_active=True, user__is_active=True
    ).count()
