"""Reads of allocation history."""

from .models import Allocation


def allocation_current_id(*, allocation: Allocation) -> int | None:
    """The id of the current entry of `allocation`'s record: by record id, or for a record
    without one along its chain of reassignments (only a reassignment replaces such an
    entry)."""
    if allocation.record_id:
        return (
            Allocation.objects.filter(
                workspace_id=allocation.workspace_id,
                record_type=allocation.record_type,
                record_id=allocation.record_id,
                is_current=True,
            )
            .order_by("-id")
            .values_list("pk", flat=True)
            .first()
        )
    current = allocation
    while current is not None and not current.is_current:
        current = Allocation.objects.filter(reassigned_from=current).order_by("-id").first()
    return current.pk if current is not None else None


def allocation_recent_field_keys(*, workspace, limit: int = 500) -> list[str]:
    """The record field names of the workspace's latest `limit` allocations, sorted: what
    plays really send, offered as rule-field suggestions. Reads the newest rows along the
    (workspace, -created_at, -id) index, so the cost does not grow with history."""
    rows = (
        Allocation.objects.filter(workspace=workspace)
        .order_by("-created_at", "-id")
        .values_list("record_fields", flat=True)[:limit]
    )
    return sorted({key for fields in rows if isinstance(fields, dict) for key in fields})
