"""Capacity reads and writes used by the allocation engine and the CRM sync."""

from dataclasses import dataclass
from datetime import datetime
from functools import cache

from django.db import connection
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from members.models import Member
from revorg.rawsql import hot_cursor, placeholders, rows_load

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
    *,
    workspace,
    members,
    record_type: str | None = None,
    now: datetime | None = None,
    capacities: list[Capacity] | None = None,
    up_to_limit: bool = False,
) -> dict[int, list[CapacityUsage]]:
    """Usage of every capacity of these members that applies to `record_type` (all if None).
    Usage counts records the member currently owns that were allocated in the window: one
    query for the capacities (none when the caller read them, as the allocation path does
    with its pool), one for the latest pipeline snapshots of open-deal capacities, and one
    COUNT per capacity, all in one statement. `up_to_limit` stops each count where the
    capacity is full, which is all a decision needs (usage then never reads above the limit
    unless the snapshot alone is): the allocation path's cost stays bounded by the limits,
    however busy the window."""
    now = now or timezone.now()
    by_id = {m.pk: m for m in members}
    if not by_id:
        return {}
    if capacities is None:
        capacities = capacity_list_for_members(workspace=workspace, member_ids=list(by_id))
    capacities = [
        cap
        for cap in capacities
        if not (record_type and cap.record_types and record_type not in cap.record_types)
        and cap.source != Source.ACCOUNTS  # the book's cap: book.services reads it
    ]
    if not capacities:
        return {}
    snapshots = _latest_snapshots(
        workspace=workspace,
        member_ids={cap.member_id for cap in capacities if cap.source == Source.OPEN_DEALS},
    )
    windows = {}  # capacity id -> (base count, counted since, resets at)
    for cap in capacities:
        if cap.source == Source.OPEN_DEALS:
            # Without a snapshot every record the member owns counts.
            open_deals, taken_at = snapshots.get(cap.member_id, (0, None))
            windows[cap.pk] = (open_deals, taken_at, None)
        else:
            start, resets_at = capacity_window(
                period=cap.period,
                now=now,
                tz_name=by_id[cap.member_id].timezone,
                window_hours=cap.window_hours,
            )
            windows[cap.pk] = (0, start, resets_at)
    counts = _count_current(
        workspace=workspace, capacities=capacities, windows=windows, up_to_limit=up_to_limit
    )
    result: dict[int, list[CapacityUsage]] = {}
    for cap in capacities:
        base, _, resets_at = windows[cap.pk]
        used = base + counts[f"c{cap.pk}"]
        result.setdefault(cap.member_id, []).append(
            CapacityUsage(cap.pk, cap.member_id, cap.limit, cap.period, used, resets_at)
        )
    return result


def _latest_snapshots(*, workspace, member_ids) -> dict[int, tuple[int, datetime]]:
    """Each member's latest pipeline snapshot as (open deals, taken at), in one query."""
    if not member_ids:
        return {}
    latest = PipelineSnapshot.objects.filter(
        workspace=workspace, member_id=OuterRef("pk")
    ).order_by("-taken_at", "-id")
    rows = (
        Member.objects.filter(workspace=workspace, pk__in=member_ids)
        .annotate(
            open_deals=Subquery(latest.values("open_deals")[:1]),
            taken_at=Subquery(latest.values("taken_at")[:1]),
        )
        .filter(taken_at__isnull=False)
        .values_list("pk", "open_deals", "taken_at")
    )
    return {pk: (open_deals, taken_at) for pk, open_deals, taken_at in rows}


def capacity_list_for_members(*, workspace, member_ids) -> list[Capacity]:
    # Raw SQL (portable): on the allocation hot path the ORM's query building costs more
    # than the query itself.
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {capacity_columns()} FROM capacities_capacity "
            f"WHERE workspace_id = %s AND member_id IN ({placeholders(member_ids)}) "
            "ORDER BY member_id, id",
            [workspace.pk, *member_ids],
        )
        return capacities_load(cursor.fetchall())


def capacity_columns(alias: str = "") -> str:
    return _capacity_columns(alias, connection.vendor)


@cache
def _capacity_columns(alias: str, vendor: str) -> str:
    prefix = f"{alias}." if alias else ""
    return ", ".join(prefix + connection.ops.quote_name(name) for name in CAPACITY_FIELDS)


def capacities_load(rows) -> list[Capacity]:
    """Capacities from rows of `capacity_columns()`."""
    return rows_load(Capacity, CAPACITY_FIELDS, rows)


CAPACITY_FIELDS = (
    "id",
    "workspace_id",
    "member_id",
    "limit",
    "period",
    "window_hours",
    "record_types",
    "source",
)


def _count_current(*, workspace, capacities, windows, up_to_limit: bool) -> dict[str, int]:
    """One scalar COUNT per capacity over the member's current allocations, in one query.
    Each subquery pins workspace and owner by equality, so it is a range scan of
    `alloc_current_owner_idx` whatever the planner's statistics say: with one COUNT … FILTER
    over `owner_id IN (…)`, stale statistics made Postgres scan every allocation of the
    window in the workspace (5 ms at 7,000 rows of today)."""
    adapt = connection.ops.adapt_datetimefield_value
    columns, params = [], []
    for cap in capacities:
        condition = "workspace_id = %s AND routing_current AND owner_id = %s"
        params += [workspace.pk, cap.member_id]
        since = windows[cap.pk][1]
        if since is not None:
            condition += " AND created_at >= %s"
            params.append(adapt(since))
        if cap.record_types:
            condition += f" AND record_type IN ({placeholders(cap.record_types)})"
            params.extend(cap.record_types)
        bound = ""
        if up_to_limit:
            bound = " LIMIT %s"
            params.append(max(cap.limit - windows[cap.pk][0], 0))
        columns.append(
            "(SELECT COUNT(*) FROM "
            f"(SELECT 1 FROM allocation_allocation WHERE {condition}{bound}) AS c)"
        )
    with hot_cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(columns)}", params)
        row = cursor.fetchone()
    return {f"c{cap.pk}": count for cap, count in zip(capacities, row, strict=True)}
