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
