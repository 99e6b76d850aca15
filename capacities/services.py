"""Capacity reads and writes used by the allocation engine and the CRM sync."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count
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


def _count_current(*, workspace, member_id: int, since, record_types) -> int:
    from allocation.models import Allocation

    qs = Allocation.objects.filter(workspace=workspace, owner_id=member_id, is_current=True)
    if since is not None:
        qs = qs.filter(created_at__gte=since)
    if record_types:
        qs = qs.filter(record_type__in=record_types)
    return qs.aggregate(n=Count("id"))["n"]


def capacity_usage_for_members(
    *, workspace, members, record_type: str | None = None, now: datetime | None = None
) -> dict[int, list[CapacityUsage]]:
    """Usage of every capacity of these members that applies to `record_type` (all if None).
    Usage counts records the member currently owns that were allocated in the window."""
    now = now or timezone.now()
    by_id = {m.pk: m for m in members}
    capacities = Capacity.objects.filter(workspace=workspace, member_id__in=list(by_id))
    result: dict[int, list[CapacityUsage]] = {}
    for cap in capacities:
        if record_type and cap.record_types and record_type not in cap.record_types:
            continue
        member = by_id[cap.member_id]
        if cap.source == Source.OPEN_DEALS:
            snap = (
                PipelineSnapshot.objects.filter(workspace=workspace, member_id=member.pk)
                .order_by("-taken_at", "-id")
                .first()
            )
            base, since = (snap.open_deals, snap.taken_at) if snap else (0, None)
            # Without a snapshot every record the member owns counts.
            used = base + _count_current(
                workspace=workspace, member_id=member.pk, since=since, record_types=cap.record_types
            )
            resets_at = None
        else:
            start, resets_at = capacity_window(
                period=cap.period, now=now, tz_name=member.timezone, window_hours=cap.window_hours
            )
            used = _count_current(
                workspace=workspace,
                member_id=member.pk,
                since=start,
                record_types=cap.record_types,
            )
        result.setdefault(member.pk, []).append(
            CapacityUsage(cap.pk, member.pk, cap.limit, cap.period, used, resets_at)
        )
    return result
