"""Reads of the map (DESIGN §10): per-region aggregates of the book, territory coverage from
rules, clustered account pins of a visible area, and one region's territories and orphaned
accounts. Every aggregate is computed in Postgres (GROUP BY), never row by row in Python."""

import math
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection
from django.db.models import Q, Sum
from django.utils import timezone

from analytics.periods import Period
from book.models import Account, AccountStatus, Opportunity
from jobs.models import Job
from territories.selectors import plan_data_load, plan_get_active

from . import boundaries, places
from .metrics import attainment_source, available_metrics
from .models import AccountPlace, MapSnapshot, PinCell, RegionTotal

ACCOUNTS = Account._meta.db_table
OPPORTUNITIES = Opportunity._meta.db_table
PLACES = AccountPlace._meta.db_table

# Pins: a cell is 360° / (CELLS_AT_ZOOM_0 · 2^zoom) wide; at most MAX_CLUSTERS per answer.
CELLS_AT_ZOOM_0 = 32
MAX_ZOOM = 14
MAX_CLUSTERS = 4000
REGION_ACCOUNTS_SHOWN = 100
SUMMARY_MAX_ZOOM = 5  # a large book's pins up to this zoom level come from its summary
SUMMARIZE = "geo.regions_summarize"  # the job handler keeping RegionTotal (geo.services)


@dataclass(frozen=True)
class MapFilters:
    owner_id: int | None = None
    level: int | None = None
    period: Period | None = None  # of attainment; None = the current fiscal quarter


def _owner_sql(filters: MapFilters, alias: str = "a") -> tuple[str, list]:
    if filters.owner_id is None:
        return "", []
    return f" AND {alias}.owner_id = %s", [filters.owner_id]


def territory_shapes(*, workspace, filters: MapFilters) -> list[boundaries.TerritoryShape]:
    """Geographic territories of the active plan at the chosen hierarchy level (all levels
    when none), held by the chosen owner when one is (any slot role)."""
    return _shapes_and_parents(workspace=workspace, filters=filters)[0]


def _shapes_and_parents(
    *, workspace, filters: MapFilters
) -> tuple[list[boundaries.TerritoryShape], dict[int, int | None]]:
    """`territory_shapes`, and the parent of every territory of the plan (any level)."""
    plan = plan_get_active(workspace=workspace)
    if plan is None:
        return [], {}
    data = plan_data_load(plan=plan)
    parents = {territory.id: territory.parent_id for territory in data.territories}
    shapes = boundaries.territory_shapes(data.territories)
    if filters.level is not None:
        shapes = [shape for shape in shapes if shape.level == filters.level]
    if filters.owner_id is not None:
        held = {
            territory.id
            for territory in data.territories
            if any(slot.member_id == filters.owner_id for slot in territory.slots)
        }
        shapes = [shape for shape in shapes if shape.id in held]
    return shapes, parents


METRICS = ("accounts", "orphaned", "located", "unresolved", "open_pipeline")


def _empty() -> dict:
    return {metric: Decimal(0) if metric == "open_pipeline" else 0 for metric in METRICS}


def _normalize(raw_rows) -> dict[tuple, dict]:
    """Raw (country, state, owner, *METRICS) rows summed per (country code, state code,
    owner): the few distinct raw values are named in Python (geo.places)."""
    totals: dict[tuple, dict] = {}
    for country_value, state_value, owner_id, *counts in raw_rows:
        country, state = places.region_of(country_value, state_value)
        row = totals.setdefault((country, state, owner_id), _empty())
        for metric, value in zip(METRICS, counts, strict=True):
            if value is not None:
                row[metric] += value
    return totals


def book_totals(*, workspace, owner_id: int | None = None, by_owner: bool = False) -> dict:
    """The book summed per (country code, state code, owner) in SQL — per owner only for
    the summary (`by_owner`), else owner None. A scan of the book: a large book is read
    from the summary the summarize job keeps (RegionTotal)."""
    owner = "" if owner_id is None else " AND a.owner_id = %s"
    owner_params = [] if owner_id is None else [owner_id]
    owner_column = "a.owner_id" if by_owner else "CAST(NULL AS bigint)"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT a.fields ->> 'country', a.fields ->> 'state', {owner_column}, count(*), "
            "count(CASE WHEN a.status = %s THEN 1 END), count(p.latitude), "
            "count(p.account_id) - count(p.latitude), NULL "
            f"FROM {ACCOUNTS} a LEFT JOIN {PLACES} p ON p.account_id = a.id "
            f"WHERE a.workspace_id = %s{owner} GROUP BY 1, 2, 3",
            [AccountStatus.ORPHANED, workspace.pk, *owner_params],
        )
        rows = cursor.fetchall()
        cursor.execute(
            f"SELECT a.fields ->> 'country', a.fields ->> 'state', {owner_column}, 0, 0, 0, 0, "
            f"sum(o.amount) FROM {OPPORTUNITIES} o JOIN {ACCOUNTS} a ON a.id = o.account_id "
            f"WHERE o.workspace_id = %s AND NOT o.is_closed AND o.amount IS NOT NULL{owner} "
            "GROUP BY 1, 2, 3",
            [workspace.pk, *owner_params],
        )
        rows += cursor.fetchall()
    return _normalize(rows)


def _snapshot_totals(*, workspace, owner_id: int | None) -> dict[tuple, dict]:
    """The summary summed per region in SQL (a few hundred rows, whatever the book)."""
    rows = RegionTotal.objects.filter(workspace=workspace)
    if owner_id is not None:
        rows = rows.filter(owner_id=owner_id)
    sums = rows.values("country", "state").annotate(**{m: Sum(m) for m in METRICS})
    return _normalize(
        (row["country"], row["state"], None, *(row[m] for m in METRICS)) for row in sums
    )


def snapshot_is_stale(snapshot) -> bool:
    """Older than GEO_SNAPSHOT_MAX_AGE seconds, or a job of the workspace (an import, a
    sync, a re-evaluation, placing) finished after it was built."""
    age = timezone.now() - snapshot.built_at
    if age > timedelta(seconds=settings.GEO_SNAPSHOT_MAX_AGE):
        return True
    return (
        Job.objects.filter(workspace_id=snapshot.workspace_id, finished_at__gt=snapshot.built_at)
        .exclude(handler=SUMMARIZE)
        .exists()
    )


def _totals(*, workspace, filters: MapFilters) -> tuple[dict, dict]:
    """(totals per region and owner, freshness). Live for a book of at most
    GEO_LIVE_MAX_ACCOUNTS accounts; a larger one is read from its last summary, and
    `stale` says a newer summary should be made (stale-while-revalidate)."""
    snapshot = MapSnapshot.objects.filter(workspace=workspace).first()
    limit = settings.GEO_LIVE_MAX_ACCOUNTS
    if snapshot is not None and snapshot.accounts > limit:
        totals = _snapshot_totals(workspace=workspace, owner_id=filters.owner_id)
        return totals, {"as_of": snapshot.built_at, "stale": snapshot_is_stale(snapshot)}
    totals = book_totals(workspace=workspace, owner_id=filters.owner_id)
    large = filters.owner_id is None and sum(r["accounts"] for r in totals.values()) > limit
    return totals, {"as_of": None, "stale": large}


def region_attainment(
    territory_ids: list[int],
    won_and_quota: dict[int, tuple[float, float | None]],
    parents: dict[int, int | None],
) -> float | None:
    """Attainment of a region (a ratio, 1.0 = 100 %) from the territories covering it:
    Σ won / Σ quota over the outermost of them — a covering territory whose ancestor also
    covers the region is left out, as the ancestor's rolled-up figures already hold its
    deals and quota — and only over those with a quota (a territory without one has no
    attainment to add). None when none has a quota > 0."""
    covering = set(territory_ids)

    def inside_another(territory_id: int) -> bool:
        cursor, seen = parents.get(territory_id), {territory_id}
        while cursor is not None and cursor not in seen:
            if cursor in covering:
                return True
            seen.add(cursor)
            cursor = parents.get(cursor)
        return False

    won = quota = Decimal(0)
    for territory_id in territory_ids:
        row = won_and_quota.get(territory_id)
        if row is None or row[1] is None or inside_another(territory_id):
            continue
        won += Decimal(str(row[0] or 0))
        quota += Decimal(str(row[1]))
    return float(won / quota) if quota > 0 else None


def map_regions(*, workspace, filters: MapFilters) -> dict:
    """The world view: every country and US state with its metrics, the geographic
    territories with the regions they cover, and how many accounts are placed. Attainment
    is of `filters.period` (default the current fiscal quarter): `region_attainment`."""
    shapes, parents = _shapes_and_parents(workspace=workspace, filters=filters)
    totals, freshness = _totals(workspace=workspace, filters=filters)
    by_territory = {}
    source = attainment_source()
    if source is not None:
        by_territory = source(workspace=workspace, period=filters.period) or {}

    def territories_of(code: str) -> list[int]:
        return [shape.id for shape in shapes if shape.coverage.covers(code)]

    country_totals: dict[str, dict] = {}
    state_totals: dict[str, dict] = {}
    unknown, everything = _empty(), _empty()
    for (country, state, _owner), row in totals.items():
        targets = [everything]
        targets.append(country_totals.setdefault(country, _empty()) if country else unknown)
        if state:
            targets.append(state_totals.setdefault(state, _empty()))
        for target in targets:
            for metric in METRICS:
                target[metric] += row[metric]
    for shape in shapes:  # regions with territories but no accounts are still drawn
        for code in shape.coverage.countries:
            country_totals.setdefault(code, _empty())
        for code in shape.coverage.states:
            state_totals.setdefault(code, _empty())
            country_totals.setdefault(code.split("-", 1)[0], _empty())

    def region(code: str, totals: dict, feature_id: str, name: str) -> dict:
        territory_ids = territories_of(code)
        return {
            "code": code,
            "feature_id": feature_id,
            "name": name,
            "accounts": totals["accounts"],
            "white_space": totals["orphaned"],
            "open_pipeline": f"{totals['open_pipeline']:.2f}",
            "attainment": region_attainment(territory_ids, by_territory, parents),
            "territories": territory_ids,
        }

    countries = places.countries()
    states = places.us_states()
    return {
        "metrics": list(available_metrics()),
        "placement": {
            "accounts": everything["accounts"],
            "located": everything["located"],
            "unresolved": everything["unresolved"],
            "pending": everything["accounts"] - everything["located"] - everything["unresolved"],
        },
        "as_of": freshness["as_of"],
        "refreshing": freshness["stale"],
        "outside_known_regions": {
            "accounts": unknown["accounts"],
            "white_space": unknown["orphaned"],
            "open_pipeline": f"{unknown['open_pipeline']:.2f}",
        },
        "countries": [
            region(code, totals, countries[code].numeric, countries[code].name)
            for code, totals in sorted(country_totals.items())
            if code in countries
        ],
        "states": [
            region(code, totals, states[code].fips, states[code].name)
            for code, totals in sorted(state_totals.items())
            if code in states
        ],
        "territories": [_shape_payload(shape) for shape in shapes],
    }


def _shape_payload(shape: boundaries.TerritoryShape) -> dict:
    return {
        "id": shape.id,
        "name": shape.name,
        "parent": shape.parent_id,
        "level": shape.level,
        "countries": sorted(shape.coverage.countries),
        "states": sorted(shape.coverage.states),
    }


def map_region(*, workspace, code: str, filters: MapFilters) -> dict | None:
    """One region: its territories (at the chosen level) and its orphaned accounts (the first
    REGION_ACCOUNTS_SHOWN by name, and how many there are), found through the region codes
    the locate job stored (accounts not placed yet are not listed). None for an unknown
    code."""
    name = places.region_name(code)
    if name is None:
        return None
    shapes = [
        shape
        for shape in territory_shapes(workspace=workspace, filters=filters)
        if shape.coverage.covers(code)
    ]
    owner, owner_params = _owner_sql(filters)
    column = "state" if "-" in code else "country"
    # One pass over the region's places: the first accounts by name and how many there are
    # (count(*) OVER () before the LIMIT). Index-only on both sides at scale — the places
    # from geo_place_ws_state/_country (they include account_id), the orphaned accounts
    # from book's account_orphaned partial index (it includes what is listed) —; the city,
    # in the account's fields, is read for the listed accounts only.
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH listed AS (SELECT a.id, a.name, a.crm_id, count(*) OVER () AS total "
            f"FROM {PLACES} p JOIN {ACCOUNTS} a ON a.id = p.account_id "
            f"AND a.workspace_id = p.workspace_id "
            f"WHERE p.workspace_id = %s AND p.{column} = %s AND a.status = %s{owner} "
            "ORDER BY a.name, a.id LIMIT %s) "
            f"SELECT l.id, l.name, l.crm_id, b.fields ->> 'city', l.total "
            f"FROM listed l JOIN {ACCOUNTS} b ON b.id = l.id ORDER BY l.name, l.id",
            [workspace.pk, code, AccountStatus.ORPHANED, *owner_params, REGION_ACCOUNTS_SHOWN],
        )
        rows = cursor.fetchall()
    count = rows[0][4] if rows else 0
    orphaned = [
        {"id": i, "name": n or crm_id, "city": city or ""} for i, n, crm_id, city, _ in rows
    ]
    return {
        "code": code,
        "name": name,
        "territories": [_shape_payload(shape) for shape in shapes],
        "orphaned_count": count,
        "orphaned_accounts": orphaned,
    }


@dataclass(frozen=True)
class BBox:
    west: float
    south: float
    east: float
    north: float


def cell_degrees(zoom: int) -> float:
    return 360.0 / (CELLS_AT_ZOOM_0 * 2**zoom)


def _live_cells(*, workspace, bbox: BBox, zoom: int, owner_id, limit: int | None) -> list:
    cell = cell_degrees(zoom)
    owner = "" if owner_id is None else " AND a.owner_id = %s"
    owner_params = [] if owner_id is None else [owner_id]
    join = f" JOIN {ACCOUNTS} a ON a.id = p.account_id" if owner else ""
    if bbox.west <= bbox.east:
        lon_sql, lon_params = "p.longitude BETWEEN %s AND %s", [bbox.west, bbox.east]
    else:
        lon_sql, lon_params = "(p.longitude >= %s OR p.longitude <= %s)", [bbox.west, bbox.east]
    limit_sql, limit_params = ("", []) if limit is None else (" LIMIT %s", [limit])
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), avg(p.latitude), avg(p.longitude), min(p.account_id), "
            "CAST(floor(p.longitude / %s) AS integer), CAST(floor(p.latitude / %s) AS integer) "
            f"FROM {PLACES} p{join} WHERE p.workspace_id = %s AND p.latitude IS NOT NULL "
            f"AND {lon_sql} AND p.latitude BETWEEN %s AND %s{owner} "
            f"GROUP BY 5, 6 ORDER BY count(*) DESC, min(p.account_id){limit_sql}",
            [cell, cell, workspace.pk, *lon_params, bbox.south, bbox.north, *owner_params,
             *limit_params],
        )  # fmt: skip
        return cursor.fetchall()


def pin_cells_all(*, workspace) -> list[tuple]:
    """Every non-empty cell of the zoom levels kept in the summary, for the summarize job:
    (zoom, count, latitude, longitude, account id, cell x, cell y)."""
    world = BBox(-180, -90, 180, 90)
    return [
        (zoom, *row)
        for zoom in range(SUMMARY_MAX_ZOOM + 1)
        for row in _live_cells(workspace=workspace, bbox=world, zoom=zoom, owner_id=None,
                               limit=None)
    ]  # fmt: skip


def _summary_cells(*, workspace, bbox: BBox, zoom: int, limit: int) -> list:
    cell = cell_degrees(zoom)
    x0, x1 = math.floor(bbox.west / cell), math.floor(bbox.east / cell)
    y0, y1 = math.floor(bbox.south / cell), math.floor(bbox.north / cell)
    cells = PinCell.objects.filter(workspace=workspace, zoom=zoom, cell_y__gte=y0, cell_y__lte=y1)
    if x0 <= x1:
        cells = cells.filter(cell_x__gte=x0, cell_x__lte=x1)
    else:
        cells = cells.filter(Q(cell_x__gte=x0) | Q(cell_x__lte=x1))
    return list(
        cells.order_by("-count", "account_id").values_list(
            "count", "latitude", "longitude", "account_id", "cell_x", "cell_y"
        )[:limit]
    )


def _large_book(workspace) -> bool:
    snapshot = MapSnapshot.objects.filter(workspace=workspace).first()
    return snapshot is not None and snapshot.accounts > settings.GEO_LIVE_MAX_ACCOUNTS


def map_pins(*, workspace, bbox: BBox, zoom: int, filters: MapFilters) -> dict:
    """Account pins of the visible area, clustered on the server by a grid whose cells halve
    at each zoom level: one row per non-empty cell (count, mean position; the account itself
    when alone), the most populous MAX_CLUSTERS cells when there are more (`capped`). A box
    whose west edge is east of its east edge crosses the antimeridian. A large book's
    coarse zoom levels (≤ SUMMARY_MAX_ZOOM, everyone's accounts) come from its summary."""
    cell = cell_degrees(zoom)
    if filters.owner_id is None and zoom <= SUMMARY_MAX_ZOOM and _large_book(workspace):
        rows = _summary_cells(workspace=workspace, bbox=bbox, zoom=zoom, limit=MAX_CLUSTERS + 1)
    else:
        rows = _live_cells(
            workspace=workspace,
            bbox=bbox,
            zoom=zoom,
            owner_id=filters.owner_id,
            limit=MAX_CLUSTERS + 1,
        )
    capped = len(rows) > MAX_CLUSTERS
    rows = rows[:MAX_CLUSTERS]
    single_ids = [row[3] for row in rows if row[0] == 1]
    names = dict(
        Account.objects.filter(workspace=workspace, pk__in=single_ids).values_list("pk", "name")
    )
    return {
        "zoom": zoom,
        "cell_degrees": cell,
        "capped": capped,
        "accounts": sum(row[0] for row in rows),
        "clusters": [
            {
                "latitude": round(float(lat), 5),
                "longitude": round(float(lon), 5),
                "count": count,
                "account": {"id": account_id, "name": names.get(account_id, "")}
                if count == 1
                else None,
            }
            for count, lat, lon, account_id, _x, _y in rows
        ],
    }
