"""Capacities with their usage now as CSV (usage is computed a chunk of capacities at a time,
one statement per chunk, as the API's pages do)."""

from collections.abc import Iterator
from itertools import islice

from django.db.models import QuerySet

from .services import capacity_usage_for_members

EXPORT_COLUMNS = [
    "id",
    "member_id",
    "member_name",
    "member_email",
    "name",
    "limit",
    "period",
    "window_hours",
    "record_types",
    "source",
    "used",
    "remaining",
    "resets_at",
]
CHUNK_CAPACITIES = 500


def capacity_export_rows(*, queryset: QuerySet) -> Iterator[list]:
    """Rows of one workspace's capacities (the queryset is scoped by the caller)."""
    capacities = (
        queryset.select_related("member", "workspace")
        .order_by("member__name", "id")
        .iterator(chunk_size=CHUNK_CAPACITIES)
    )
    while chunk := list(islice(capacities, CHUNK_CAPACITIES)):
        workspace = chunk[0].workspace
        members = {capacity.member_id: capacity.member for capacity in chunk}
        usage = {
            row.capacity_id: row
            for rows in capacity_usage_for_members(
                workspace=workspace, members=list(members.values()), capacities=chunk
            ).values()
            for row in rows
        }
        for capacity in chunk:
            used = usage.get(capacity.pk)
            yield [
                capacity.pk,
                capacity.member_id,
                capacity.member.name,
                capacity.member.email,
                capacity.name,
                capacity.limit,
                capacity.period,
                capacity.window_hours,
                ";".join(capacity.record_types or []),
                capacity.source,
                used.used if used else 0,
                used.remaining if used else capacity.limit,
                used.resets_at.isoformat() if used and used.resets_at else "",
            ]
