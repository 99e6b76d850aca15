"""Reads of the map (DESIGN §10): per-region aggregates of the book, territory coverage from
rules, clustered account pins of a visible area, and one region's territories and orphaned
accounts. Every aggregate is computed in Postgres (GROUP BY), never row by row in Python."""

from dataclasses import dataclass
from decimal import Decimal

from django.db import connection

from book.models import Account, AccountStatus, Opportunity
from territories.selectors import plan_data_load, plan_get_active

from . import boundaries, places
from .metrics import attainment_source, available_metrics
from .models import AccountPlace

ACCOUNTS = Account._meta.db_table
OPPORTUNITIES = Opportunity._meta.db_table
PLACES = AccountPlace._meta.db_table

# Pins: a cell is 360° / (CELLS_AT_ZOOM_0 · 2^zoom) wide; at most MAX_CLUSTERS per answer.
CELLS_AT_ZOOM_0 = 32
MAX_ZOOM = 14
MAX_CLUSTERS = 4000
REGION_ACCOUNTS_SHOWN = 100


@dataclass(frozen=True)
class MapFilters:
    owner_id: int | None = None
    level: int | None = None


def _owner_sql(filters: MapFilters, alias: str = "a") -> tuple[str, list]:
    if filters.owner_id is None:
        return "", []
    return f" AND {alias}.owner_id = %s", [filters.owner_id]


def territory_shapes(*, workspace, filters: MapFilters) -> list[boundaries.TerritoryShape]:
    """Geographic territories of the active plan at the chosen hierarchy level (all levels
    when none), held by the chosen owner when one is (any slot role)."""
    plan = plan_get_active(workspace=workspace)
    if plan is None:
        return []
    data = plan_data_load(plan=plan)
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
    return shapes


def _region_rows(*, workspace, filters: MapFilters) -> dict[tuple[str, str], dict]:
    """{(country code, state code): {accounts, orphaned, open_pipeline}}: the book grouped by
    its raw country/state values in SQL, the few distinct values then named in Python."""
    owner, owner_params = _owner_sql(filters)
    regions: dict[tuple[str, str], dict] = {}

    def row_for(country_value, state_value) -> dict:
        key = places.region_of(country_value, state_value)
        return regions.setdefault(key, {"accounts": 0, "orphaned": 0, "open_pipeline": Decimal(0)})

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.fields ->> 'country', a.fields ->> 'state', count(*), "
            "count(CASE WHEN a.status = %s THEN 1 END) "
            f"FROM {ACCOUNTS} a WHERE a.workspace_id = %s{owner} GROUP BY 1, 2",
            [AccountStatus.ORPHANED, workspace.pk, *owner_params],
        )
        for country_value, state_value, count, orphaned in cursor.fetchall():
            row = row_for(country_value, state_value)
            row["accounts"] += count
            row["orphaned"] += orphaned
        cursor.execute(
            "SELECT a.fields ->> 'country', a.fields ->> 'state', sum(o.amount) "
            f"FROM {OPPORTUNITIES} o JOIN {ACCOUNTS} a ON a.id = o.account_id "
            f"WHERE o.workspace_id = %s AND NOT o.is_closed AND o.amount IS NOT NULL{owner} "
            "GROUP BY 1, 2",
            [workspace.pk, *owner_params],
        )
        for country_value, state_value, amount in cursor.fetchall():
            row_for(country_value, state_value)["open_pipeline"] += Decimal(amount or 0)
    return regions


def _placement(*, workspace, filters: MapFilters) -> dict:
    """How many accounts have a position, how many have none that can be resolved, and how
    many the locate job has not reached yet: unresolvable accounts are counted, not dropped."""
    owner, owner_params = _owner_sql(filters)
    with connection.cursor() as cursor:
        if filters.owner_id is None:
            cursor.execute(
                f"SELECT count(*) FROM {ACCOUNTS} WHERE workspace_id = %s", [workspace.pk]
            )
            accounts = cursor.fetchone()[0]
            cursor.execute(
                "SELECT count(*), count(CASE WHEN precision = '' THEN 1 END) "
                f"FROM {PLACES} WHERE workspace_id = %s",
                [workspace.pk],
            )
        else:
            cursor.execute(
                f"SELECT count(*) FROM {ACCOUNTS} a WHERE a.workspace_id = %s{owner}",
                [workspace.pk, *owner_params],
            )
            accounts = cursor.fetchone()[0]
            cursor.execute(
                "SELECT count(*), count(CASE WHEN p.precision = '' THEN 1 END) "
                f"FROM {PLACES} p JOIN {ACCOUNTS} a ON a.id = p.account_id "
                f"WHERE p.workspace_id = %s{owner}",
                [workspace.pk, *owner_params],
            )
        placed, unresolved = cursor.fetchone()
    return {
        "accounts": accounts,
        "located": placed - unresolved,
        "unresolved": unresolved,
        "pending": max(accounts - placed, 0),
    }


def _ratio(won, quota):
    if not quota:
        return None
    return float(Decimal(won) / Decimal(quota))


def map_regions(*, workspace, filters: MapFilters) -> dict:
    """The world view: every country and US state with its metrics, the geographic
    territories with the regions they cover, and how many accounts are placed."""
    shapes = territory_shapes(workspace=workspace, filters=filters)
    rows = _region_rows(workspace=workspace, filters=filters)
    by_territory = {}
    source = attainment_source()
    if source is not None:
        by_territory = source(workspace=workspace) or {}

    def territories_of(code: str) -> list[int]:
        return [shape.id for shape in shapes if shape.coverage.covers(code)]

    def attainment_of(territory_ids) -> float | None:
        won = sum(
            (Decimal(by_territory[t][0] or 0) for t in territory_ids if t in by_territory),
            Decimal(0),
        )
        quota = sum(
            (Decimal(by_territory[t][1] or 0) for t in territory_ids if t in by_territory),
            Decimal(0),
        )
        return _ratio(won, quota)

    country_totals: dict[str, dict] = {}
    state_totals: dict[str, dict] = {}
    unknown = {"accounts": 0, "orphaned": 0, "open_pipeline": Decimal(0)}
    for (country, state), row in rows.items():
        targets = []
        if country:
            targets.append(country_totals.setdefault(country, _empty()))
        else:
            targets.append(unknown)
        if state:
            targets.append(state_totals.setdefault(state, _empty()))
        for target in targets:
            for metric in ("accounts", "orphaned", "open_pipeline"):
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
            "attainment": attainment_of(territory_ids) if by_territory else None,
            "territories": territory_ids,
        }

    countries = places.countries()
    states = places.us_states()
    return {
        "metrics": list(available_metrics()),
        "placement": _placement(workspace=workspace, filters=filters),
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


def _empty() -> dict:
    return {"accounts": 0, "orphaned": 0, "open_pipeline": Decimal(0)}


def _shape_payload(shape: boundaries.TerritoryShape) -> dict:
    return {
        "id": shape.id,
        "name": shape.name,
        "parent": shape.parent_id,
        "level": shape.level,
        "countries": sorted(shape.coverage.countries),
        "states": sorted(shape.coverage.states),
    }


def _raw_pairs_of(code: str, *, workspace, status: str | None = None) -> list[tuple]:
    """The raw (country, state) values of the book that name region `code`."""
    where, params = "", [workspace.pk]
    if status:
        where, params = " AND status = %s", [workspace.pk, status]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT fields ->> 'country', fields ->> 'state' "
            f"FROM {ACCOUNTS} WHERE workspace_id = %s{where}",
            params,
        )
        pairs = cursor.fetchall()
    matches = []
    for country_value, state_value in pairs:
        country, state = places.region_of(country_value, state_value)
        if code in (country, state):
            matches.append((country_value, state_value))
    return matches


def map_region(*, workspace, code: str, filters: MapFilters) -> dict | None:
    """One region: its territories (at the chosen level) and its orphaned accounts (the first
    REGION_ACCOUNTS_SHOWN by name, and how many there are). None for an unknown code."""
    name = places.region_name(code)
    if name is None:
        return None
    shapes = [
        shape
        for shape in territory_shapes(workspace=workspace, filters=filters)
        if shape.coverage.covers(code)
    ]
    pairs = _raw_pairs_of(code, workspace=workspace, status=AccountStatus.ORPHANED)
    orphaned, count = [], 0
    if pairs:
        owner, owner_params = _owner_sql(filters)
        match = " OR ".join(
            "(a.fields ->> 'country' IS NOT DISTINCT FROM %s "
            "AND a.fields ->> 'state' IS NOT DISTINCT FROM %s)"
            for _ in pairs
        )
        params = [workspace.pk, AccountStatus.ORPHANED, *[v for pair in pairs for v in pair]]
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT count(*) FROM {ACCOUNTS} a WHERE a.workspace_id = %s "
                f"AND a.status = %s AND ({match}){owner}",
                [*params, *owner_params],
            )
            count = cursor.fetchone()[0]
            cursor.execute(
                "SELECT a.id, a.name, a.crm_id, a.fields ->> 'city' "
                f"FROM {ACCOUNTS} a WHERE a.workspace_id = %s "
                f"AND a.status = %s AND ({match}){owner} ORDER BY a.name, a.id LIMIT %s",
                [*params, *owner_params, REGION_ACCOUNTS_SHOWN],
            )
            orphaned = [
                {"id": i, "name": n or crm_id, "city": city or ""}
                for i, n, crm_id, city in cursor.fetchall()
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


def map_pins(*, workspace, bbox: BBox, zoom: int, filters: MapFilters) -> dict:
    """Account pins of the visible area, clustered on the server by a grid whose cells halve
    at each zoom level: one row per non-empty cell (count, mean position; the account itself
    when alone), the most populous MAX_CLUSTERS cells when there are more (`capped`). A box
    whose west edge is east of its east edge crosses the antimeridian."""
    cell = cell_degrees(zoom)
    owner, owner_params = _owner_sql(filters)
    join = f" JOIN {ACCOUNTS} a ON a.id = p.account_id" if owner else ""
    if bbox.west <= bbox.east:
        lon_sql, lon_params = "p.longitude BETWEEN %s AND %s", [bbox.west, bbox.east]
    else:
        lon_sql, lon_params = "(p.longitude >= %s OR p.longitude <= %s)", [bbox.west, bbox.east]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), avg(p.latitude), avg(p.longitude), min(p.account_id) "
            f"FROM {PLACES} p{join} WHERE p.workspace_id = %s AND p.latitude IS NOT NULL "
            f"AND {lon_sql} AND p.latitude BETWEEN %s AND %s{owner} "
            "GROUP BY floor(p.longitude / %s), floor(p.latitude / %s) "
            "ORDER BY count(*) DESC, min(p.account_id) LIMIT %s",
            [
                workspace.pk,
                *lon_params,
                bbox.south,
                bbox.north,
                *owner_params,
                cell,
                cell,
                MAX_CLUSTERS + 1,
            ],
        )
        rows = cursor.fetchall()
    capped = len(rows) > MAX_CLUSTERS
    rows = rows[:MAX_CLUSTERS]
    single_ids = [account_id for count, _, _, account_id in rows if count == 1]
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
            for count, lat, lon, account_id in rows
        ],
    }
