"""Reads of allocation history."""

from django.db.models import Case, OuterRef, Q, QuerySet, Subquery, TextChoices, When

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


class AllocationState(TextChoices):
    """What became of a history entry (API.md): still `current`, `reassigned` by a person, or
    `superseded` by a later allocation of its record. Derived, never stored."""

    CURRENT = "current", "Current"
    SUPERSEDED = "superseded", "Superseded"
    REASSIGNED = "reassigned", "Reassigned"


def allocation_state_annotate(queryset: QuerySet[Allocation]) -> QuerySet[Allocation]:
    """Adds `reassigned_by_id` and `superseded_by_id` to each row in the same statement (two
    correlated subqueries, evaluated only for entries that are no longer current): a list page
    reads every entry's state and successor without a query per row."""
    reassignment = (
        Allocation.objects.filter(reassigned_from=OuterRef("pk")).order_by("id").values("id")[:1]
    )
    next_of_record = (
        Allocation.objects.filter(
            workspace_id=OuterRef("workspace_id"),
            record_type=OuterRef("record_type"),
            record_id=OuterRef("record_id"),
            id__gt=OuterRef("pk"),
        )
        .order_by("id")
        .values("id")[:1]
    )
    not_current = Q(is_current=False)
    return queryset.annotate(
        reassigned_by_id=Case(When(not_current, then=Subquery(reassignment))),
        superseded_by_id=Case(When(not_current & ~Q(record_id=""), then=Subquery(next_of_record))),
    )


def allocation_state(*, allocation: Allocation) -> tuple[str, int | None]:
    """(state, successor id) of an entry: from `allocation_state_annotate`'s columns when the
    row has them, else read here (one entry: one or two small indexed queries)."""
    if allocation.pk is None or allocation.is_current:
        return AllocationState.CURRENT, None
    if hasattr(allocation, "reassigned_by_id"):
        reassigned_by, superseded_by = allocation.reassigned_by_id, allocation.superseded_by_id
    else:
        reassigned_by = (
            Allocation.objects.filter(reassigned_from_id=allocation.pk)
            .order_by("id")
            .values_list("id", flat=True)
            .first()
        )
        superseded_by = None
        if reassigned_by is None and allocation.record_id:
            superseded_by = (
                Allocation.objects.filter(
                    workspace_id=allocation.workspace_id,
                    record_type=allocation.record_type,
                    record_id=allocation.record_id,
                    id__gt=allocation.pk,
                )
                .order_by("id")
                .values_list("id", flat=True)
                .first()
            )
    if reassigned_by is not None:
        return AllocationState.REASSIGNED, reassigned_by
    return AllocationState.SUPERSEDED, superseded_by


def allocation_record_owner_ids(*, allocation: Allocation) -> set[int]:
    """Every member who has owned this entry's record: its history by record id, or for a
    record without one the chain of reassignments back from this entry."""
    if allocation.record_id:
        return set(
            Allocation.objects.filter(
                workspace_id=allocation.workspace_id,
                record_type=allocation.record_type,
                record_id=allocation.record_id,
                owner_id__isnull=False,
            ).values_list("owner_id", flat=True)
        )
    owners, current = set(), allocation
    while current is not None:
        if current.owner_id:
            owners.add(current.owner_id)
        current = current.reassigned_from
    return owners
