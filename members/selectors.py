"""Reads for members, always within one workspace."""

from datetime import datetime

from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone

from .models import Absence, Member


def member_list(*, workspace, search: str = "") -> QuerySet[Member]:
    queryset = Member.objects.filter(workspace=workspace)
    if search:
        queryset = queryset.filter(
            Q(name__icontains=search) | Q(email__icontains=search) | Q(title__icontains=search)
        )
    return queryset


def member_get(*, workspace, member_id) -> Member | None:
    return Member.objects.filter(workspace=workspace, pk=member_id).first()


def absent_member_ids(*, workspace, member_ids, at: datetime | None = None) -> set[int]:
    """Which of these members are on time off at `at` (now by default)."""
    at = at or timezone.now()
    return set(
        Absence.objects.filter(
            workspace=workspace, member_id__in=member_ids, starts_at__lte=at, ends_at__gt=at
        ).values_list("member_id", flat=True)
    )


def absence_end(*, workspace, member_id, at: datetime | None = None) -> datetime | None:
    """When the time off the member is on at `at` (now by default) ends, None when present:
    a refusal can then say until when."""
    at = at or timezone.now()
    return (
        Absence.objects.filter(
            workspace=workspace, member_id=member_id, starts_at__lte=at, ends_at__gt=at
        )
        .order_by("-ends_at")
        .values_list("ends_at", flat=True)
        .first()
    )


# What a member-eligibility rule can compare against besides metadata: the attributes the
# allocation engine puts next to it (`allocation.services._member_states`).
MEMBER_BUILTIN_ATTRIBUTES = ("role", "timezone")


def member_attribute_keys(*, workspace) -> list[str]:
    """The `member.<key>` names an eligibility rule can use: the built-in attributes and
    every metadata key seen on the workspace's members, sorted. One query that returns only
    the distinct keys (10,000 members' metadata never crosses the wire)."""
    table = Member._meta.db_table
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT DISTINCT jsonb_object_keys(metadata) FROM {table} "
                "WHERE workspace_id = %s AND jsonb_typeof(metadata) = 'object'",
                [workspace.pk],
            )
            keys = {row[0] for row in cursor.fetchall()}
    else:  # SQLite (make run): a demo-sized table
        keys = {
            key
            for metadata in Member.objects.filter(workspace=workspace).values_list(
                "metadata", flat=True
            )
            if isinstance(metadata, dict)
            for key in metadata
        }
    return sorted(keys | set(MEMBER_BUILTIN_ATTRIBUTES))
