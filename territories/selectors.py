"""Reads for territories, and the per-process cache of compiled plan matchers."""

import threading

from django.db.models import QuerySet

from revorg.rawsql import hot_cursor, rows_load

from .matching import (
    CompiledMatcher,
    PlanData,
    Resolution,
    SlotInfo,
    TerritoryInfo,
    normalize_account,
)
from .models import AccountLock, PlanStatus, Territory, TerritoryPlan, TerritorySlot

_cache: dict[int, CompiledMatcher] = {}
_cache_lock = threading.Lock()
MAX_CACHED_PLANS = 256


def plan_get_active(*, workspace) -> TerritoryPlan | None:
    # Raw SQL (portable): every allocation reads this, and the ORM's query building costs
    # more than the query.
    with hot_cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(PLAN_FIELDS)} FROM territories_territoryplan "
            "WHERE workspace_id = %s AND status = %s ORDER BY id LIMIT 1",
            [workspace.pk, PlanStatus.ACTIVE],
        )
        return next(iter(rows_load(TerritoryPlan, PLAN_FIELDS, cursor.fetchall())), None)


PLAN_FIELDS = tuple(f.attname for f in TerritoryPlan._meta.concrete_fields)


def plan_list(*, workspace) -> QuerySet[TerritoryPlan]:
    return TerritoryPlan.objects.filter(workspace=workspace)


def territory_list(*, workspace, plan=None) -> QuerySet[Territory]:
    plan = plan or plan_get_active(workspace=workspace)
    return Territory.objects.filter(workspace=workspace, plan=plan)


def plan_data_load(*, plan: TerritoryPlan) -> PlanData:
    """Everything the matcher needs, in three queries, as plain data."""
    rows = list(
        Territory.objects.filter(plan=plan).values(
            "id",
            "name",
            "priority",
            "parent_id",
            "kind",
            "distribution",
            "rule",
            "member_rule",
            "named_accounts",
            "fallback_member_id",
            "fallback_territory_id",
            "is_active",
        )
    )
    slots: dict[int, list[SlotInfo]] = {}
    for slot in (
        TerritorySlot.objects.filter(territory__plan=plan)
        .order_by("position", "id")
        .values("territory_id", "member_id", "role", "weight", "position")
    ):
        slots.setdefault(slot["territory_id"], []).append(
            SlotInfo(slot["member_id"], slot["role"], slot["weight"], slot["position"])
        )
    parents = {row["id"]: row["parent_id"] for row in rows}

    def depth(territory_id):
        level, cursor, seen = 1, parents.get(territory_id), {territory_id}
        while cursor is not None and cursor not in seen:
            seen.add(cursor)
            level += 1
            cursor = parents.get(cursor)
        return level

    territories = tuple(
        TerritoryInfo(
            id=row["id"],
            name=row["name"],
            priority=row["priority"],
            depth=depth(row["id"]),
            parent_id=row["parent_id"],
            kind=row["kind"],
            distribution=row["distribution"],
            rule=row["rule"],
            member_rule=row["member_rule"],
            named_accounts=tuple(row["named_accounts"] or ()),
            fallback_member_id=row["fallback_member_id"],
            fallback_territory_id=row["fallback_territory_id"],
            is_active=row["is_active"],
            slots=tuple(slots.get(row["id"], ())),
        )
        for row in rows
    )
    locks = {
        normalize_account(lock["account"]): (lock["territory_id"], lock["reason"])
        for lock in AccountLock.objects.filter(
            workspace_id=plan.workspace_id, territory__plan=plan
        ).values("account", "territory_id", "reason")
    }
    return PlanData(plan_id=plan.pk, version=plan.version, territories=territories, locks=locks)


def matcher_for_plan(*, plan: TerritoryPlan) -> CompiledMatcher:
    """Compiled once per (plan, version) per process; a changed plan has a new version."""
    cached = _cache.get(plan.pk)
    if cached is not None and cached.plan.version == plan.version:
        return cached
    matcher = CompiledMatcher(plan_data_load(plan=plan))
    with _cache_lock:
        if len(_cache) >= MAX_CACHED_PLANS:
            _cache.clear()
        _cache[plan.pk] = matcher
    return matcher


def territory_resolve(*, workspace, fields: dict, plan: TerritoryPlan | None = None) -> Resolution:
    """Which territory owns this record under the active (or given) plan, and why."""
    plan = plan or plan_get_active(workspace=workspace)
    if plan is None:
        return Resolution("none")
    return matcher_for_plan(plan=plan).resolve(fields)


def territory_info_get(
    *, workspace, territory_id: int, plan: TerritoryPlan | None = None
) -> TerritoryInfo | None:
    """A territory of the active plan as plain data (e.g. to follow a fallback chain)."""
    plan = plan or plan_get_active(workspace=workspace)
    if plan is None:
        return None
    return matcher_for_plan(plan=plan).by_id.get(territory_id)


def plan_records_simulate(*, plan: TerritoryPlan, records: list[dict]) -> dict:
    """How many of `records` each territory of `plan` would win, nothing written: the quick
    synchronous simulation (the whole book's is planning's job)."""
    matcher = matcher_for_plan(plan=plan)
    counts: dict[int, int] = {}
    unmatched = 0
    for winner in matcher.winners(records):
        if winner is None:
            unmatched += 1
        else:
            counts[winner] = counts.get(winner, 0) + 1
    ranked = sorted(counts.items(), key=lambda item: -item[1])
    return {
        "plan": plan.pk,
        "records": len(records),
        "unmatched": unmatched,
        "territories": [
            {"id": tid, "name": matcher.by_id[tid].name, "records": count} for tid, count in ranked
        ],
    }
