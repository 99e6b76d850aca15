"""Capacity reads and writes used by the allocation engine and the CRM sync."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q
from django.utils import timezone

from .models import Capacity, PipelineSnapshot, Source
from .windows import capacity_window


@dataclass(frozen=True)
class CapacityUsage:
    capacity_id: int
    member_id: int
    limit: int
    period: str
    used: int
    resets_at: datetime | None

    @property
    def remaining(self) -> int:
        return max(self.limit - self.used, 0)


def pipeline_snapshot_record(*, workspace, member, open_deals: int, taken_at) -> PipelineSnapshot:
    """Called by the CRM sync: the latest snapshot is what model-based capacity reads."""
    return PipelineSnapshot.objects.create(
        workspace=workspace, member=member, open_deals=open_deals, taken_at=taken_at
    )


def capacity_usage_for_members(
    *, workspace, members, record_type: str | None = None, now: datetime | None = None
) -> dict[int, list[CapacityUsage]]:
    """Usage of every capacity of these members that applies to `record_type` (all if None).
    Usage counts records the member currently owns that were allocated in the window: one
    query for the capacities, one COUNT … FILTER per capacity in a single aggregate."""
    now = now or timezone.now()
    by_id = {m.pk: m for m in members}
    capacities = [
        cap
        for cap in Capacity.objects.filter(workspace=workspace, member_id__in=list(by_id))
        if not (record_type and cap.record_types and record_type not in cap.record_types)
    ]
    if not capacities:
        return {}
    windows = {}  # capacity id -> (base count, counted since, resets at)
    for cap in capacities:
        if cap.source == Source.OPEN_DEALS:
            snap = (
                PipelineSnapshot.objects.filter(workspace=workspace, member_id=cap.member_id)
                .order_by("-taken_at", "-id")
                .first()
            )
            # Without a snapshot every record the member owns counts.
            windows[cap.pk] = (snap.open_deals, snap.taken_at, None) if snap else (0, None, None)
        else:
            start, resets_at = capacity_window(
                period=cap.period,
                now=now,
                tz_name=by_id[cap.member_id].timezone,
                window_hours=cap.window_hours,
            )
            windows[cap.pk] = (0, start, resets_at)
    counts = _count_current(workspace=workspace, capacities=capacities, windows=windows)
    result: dict[int, list[CapacityUsage]] = {}
    for cap in capacities:
        base, _, resets_at = windows[cap.pk]
        used = base + counts[f"c{cap.pk}"]
        result.setdefault(cap.member_id, []).append(
            CapacityUsage(cap.pk, cap.member_id, cap.limit, cap.period, used, resets_at)
        )
    return result


def _count_current(*, workspace, capacities, windows) -> dict[str, int]:
    from allocation.models import Allocation

    counters = {}
    for cap in capacities:
        condition = Q(owner_id=cap.member_id)
        since = windows[cap.pk][1]
        if since is not None:
            condition &= Q(created_at__gte=since)
        if cap.record_types:
            condition &= Q(record_type__in=cap.record_types)
        counters[f"c{cap.pk}"] = Count("id", filter=condition)
    starts = [window[1] for window in windows.values()]
    rows = Allocation.objects.filter(
        workspace=workspace,
        owner_id__in={cap.member_id for cap in capacities},
        is_current=True,
    )
    if None not in starts:
        rows = rows.filter(created_at__gte=min(starts))
    return rows.aggregate(**counters)
