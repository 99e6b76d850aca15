"""Reads of planning: a simulation's aggregates and moves (SQL over the scratch table, which
holds each account's before and after; the moves add the book's names), the latest
simulation of a plan, and the balance of a set of books.

"Before" is the book as the simulation's chunks read it (territories of the plan that
assigned it, owners, open deals); "after" is the simulated plan's outcome. Territories of two
plans are different rows, so a territory is the same territory on both sides when it has the
same name (a clone keeps names): an account moves territory when its territory's name
changes.
"""

from decimal import Decimal

from django.db import connection

from book.models import Account, Opportunity
from jobs.models import Job, JobStatus
from members.models import Member
from revorg.errors import ApplicationError
from territories.models import Territory, TerritorySlot

from .balance import balance_score
from .models import SimulatedAccount

MOVES_SHOWN = 200


def _joined(job_id: int, workspace_id: int, *, accounts: bool = False) -> tuple[str, list]:
    """Every simulated account with its before (as its chunk read the book) and after, open
    deals and open pipeline, and the territories' names; `accounts` adds each account's CRM
    id and name (the moves list), the one join with the book."""
    book = f"JOIN {Account._meta.db_table} a ON a.id = s.account_id " if accounts else ""
    names = "a.crm_id, a.name AS account_name, " if accounts else ""
    return (
        f"SELECT s.account_id, {names}"
        "s.territory_before AS tb, s.owner_before AS ob, s.territory_id AS ta, "
        "s.owner_id AS oa, s.status, s.deals, s.amount, "
        "coalesce(t1.name, '') AS tb_name, coalesce(t2.name, '') AS ta_name "
        f"FROM {SimulatedAccount._meta.db_table} s {book}"
        f"LEFT JOIN {Territory._meta.db_table} t1 ON t1.id = s.territory_before "
        f"LEFT JOIN {Territory._meta.db_table} t2 ON t2.id = s.territory_id "
        "WHERE s.job_id = %s AND s.workspace_id = %s",
        [job_id, workspace_id],
    )


MOVED = "(x.tb_name <> x.ta_name OR coalesce(x.ob, 0) <> coalesce(x.oa, 0))"


_SETS = {
    "territory_before": "x.tb",
    "territory_after": "x.ta",
    "owner_before": "x.ob",
    "owner_after": "x.oa",
}
_COUNTS = (
    "count(*) FILTER (WHERE x.tb_name <> x.ta_name), "
    "count(*) FILTER (WHERE coalesce(x.ob, 0) <> coalesce(x.oa, 0)), "
    f"count(*) FILTER (WHERE {MOVED}), "
    "count(*) FILTER (WHERE x.status = 'orphaned'), "
    "count(*) FILTER (WHERE x.status = 'vacant')"
)


def simulation_aggregates(*, job_id: int, workspace_id: int) -> dict:
    """Every grouping the result needs. Postgres: one pass over the scratch table (which
    holds each account's before, deals included) with GROUPING SETS (per territory and per
    owner, before and after; vacant accounts per territory; the totals), after an ANALYZE
    of the just-filled table. SQLite (`make run`): one query per grouping."""
    joined, params = _joined(job_id, workspace_id)
    out: dict = {name: {} for name in _SETS}
    vacant_territories: dict = {}
    totals = (0, 0, 0, 0, 0, 0)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"ANALYZE {SimulatedAccount._meta.db_table}")
            columns = ", ".join(f"GROUPING({c})" for c in _SETS.values())
            cursor.execute(
                f"SELECT {columns}, x.tb, x.ta, x.ob, x.oa, "
                "count(*) FILTER (WHERE x.status = 'vacant'), "
                f"count(*), sum(x.deals), sum(x.amount), {_COUNTS} FROM ({joined}) x "
                "GROUP BY GROUPING SETS ((x.tb), (x.ta), (x.ob), (x.oa), ())",
                params,
            )
            for row in cursor.fetchall():
                flags, keys, vacant = row[:4], row[4:8], row[8]
                count, deals, amount = row[9:12]
                figures = (count, int(deals or 0), Decimal(amount or 0))
                if all(flags):
                    totals = (count, *row[12:])
                    continue
                position = flags.index(0)
                name = list(_SETS)[position]
                out[name][keys[position]] = figures
                if name == "territory_after" and vacant:
                    vacant_territories[keys[position]] = vacant
        else:
            for name, column in _SETS.items():
                cursor.execute(
                    f"SELECT {column}, count(*), sum(x.deals), sum(x.amount), "
                    f"count(*) FILTER (WHERE x.status = 'vacant') FROM ({joined}) x "
                    f"GROUP BY {column}",
                    params,
                )
                for key, count, deals, amount, vacant in cursor.fetchall():
                    out[name][key] = (count, int(deals or 0), Decimal(amount or 0))
                    if name == "territory_after" and vacant:
                        vacant_territories[key] = vacant
            cursor.execute(f"SELECT count(*), {_COUNTS} FROM ({joined}) x", params)
            totals = cursor.fetchone()
    total, territory_moves, owner_moves, moves, orphaned, vacant = totals
    out.update(
        total=total,
        moves=moves,
        territory_moves=territory_moves,
        owner_moves=owner_moves,
        orphaned=orphaned,
        vacant=vacant,
        vacant_territories=sorted(vacant_territories.items(), key=lambda tv: (-tv[1], tv[0])),
    )
    return out


def _figures(row) -> dict:
    count, deals, amount = row or (0, 0, Decimal(0))
    return {"accounts": count, "open_deals": deals, "open_pipeline": f"{amount:.2f}"}


def primary_member_ids(*, plan_id) -> set[int]:
    if plan_id is None:
        return set()
    return set(
        TerritorySlot.objects.filter(territory__plan_id=plan_id, role="primary").values_list(
            "member_id", flat=True
        )
    )


def books_balance(books: dict, reps: set) -> dict:
    """Balance scores of accounts and of open pipeline over `reps` (each rep counted, with
    zero when it owns nothing)."""
    return {
        "accounts": balance_score([books.get(m, (0, 0, 0))[0] for m in sorted(reps)]),
        "pipeline": balance_score([books.get(m, (0, 0, 0))[2] for m in sorted(reps)]),
    }


def simulation_summary(*, aggregates: dict, plan, before_plan, workspace_id: int) -> dict:
    ids = {tid for key in ("territory_before", "territory_after") for tid in aggregates[key]}
    names = dict(Territory.objects.filter(pk__in=ids - {None}).values_list("id", "name"))
    territories: dict[str, dict] = {}
    for side, key in (("before", "territory_before"), ("after", "territory_after")):
        for tid, row in aggregates[key].items():
            if tid is None:
                continue
            name = names.get(tid, f"#{tid}")
            entry = territories.setdefault(name, {"id": tid, "name": name})
            if side == "after":
                entry["id"] = tid  # the simulated plan's territory when it has one
            entry[side] = _figures(row)
    for entry in territories.values():
        entry.setdefault("before", _figures(None))
        entry.setdefault("after", _figures(None))
    before_reps = primary_member_ids(plan_id=before_plan.pk if before_plan else None)
    after_reps = primary_member_ids(plan_id=plan.pk)
    member_ids = (
        {m for key in ("owner_before", "owner_after") for m in aggregates[key]} | before_reps
    ) | after_reps
    member_ids.discard(None)
    member_names = dict(
        Member.objects.filter(workspace_id=workspace_id, pk__in=member_ids).values_list(
            "id", "name"
        )
    )
    members = [
        {
            "id": member_id,
            "name": member_names.get(member_id, f"#{member_id}"),
            "before": _figures(aggregates["owner_before"].get(member_id)),
            "after": _figures(aggregates["owner_after"].get(member_id)),
        }
        for member_id in sorted(member_ids, key=lambda m: (member_names.get(m, ""), m))
    ]
    balance_before = books_balance(aggregates["owner_before"], before_reps)
    balance_after = books_balance(aggregates["owner_after"], after_reps)
    unassigned = {
        side: _figures(aggregates[key].get(None))
        for side, key in (("before", "owner_before"), ("after", "owner_after"))
    }
    return {
        "accounts": aggregates["total"],
        "moves": aggregates["moves"],
        "territory_moves": aggregates["territory_moves"],
        "owner_moves": aggregates["owner_moves"],
        "territories": sorted(territories.values(), key=lambda t: (t["name"], t["id"])),
        "members": members,
        "unowned": unassigned,
        "balance": {
            "accounts": {
                "before": balance_before["accounts"],
                "after": balance_after["accounts"],
            },
            "pipeline": {
                "before": balance_before["pipeline"],
                "after": balance_after["pipeline"],
            },
        },
        "coverage": {
            "accounts": aggregates["total"],
            "orphaned": aggregates["orphaned"],
            "vacant": aggregates["vacant"],
            "vacant_territories": [
                {"id": tid, "name": names.get(tid, f"#{tid}"), "accounts": count}
                for tid, count in aggregates["vacant_territories"]
            ],
        },
    }


MOVE_COLUMNS = [
    "account_id",
    "crm_id",
    "name",
    "territory_before",
    "territory_after",
    "owner_before",
    "owner_after",
    "open_deals",
    "open_pipeline",
]


def simulation_moves(
    *, job: Job, territory: str | None = None, member_id: int | None = None, limit=None
):
    """The accounts the simulation moves (territory or owner), by account id; filtered to
    those leaving or entering a territory (by name) or a rep's book."""
    joined, params = _joined(job.pk, job.workspace_id, accounts=True)
    where, extra = [MOVED], []
    if territory:
        where.append("(x.tb_name = %s OR x.ta_name = %s)")
        extra += [territory, territory]
    if member_id is not None:
        where.append("(x.ob = %s OR x.oa = %s)")
        extra += [member_id, member_id]
    members = Member._meta.db_table
    sql = (
        "SELECT x.account_id, x.crm_id, x.account_name, x.tb_name, x.ta_name, "
        "coalesce(mb.name, ''), coalesce(ma.name, ''), x.deals, x.amount "
        f"FROM ({joined}) x LEFT JOIN {members} mb ON mb.id = x.ob "
        f"LEFT JOIN {members} ma ON ma.id = x.oa "
        f"WHERE {' AND '.join(where)} ORDER BY x.account_id"
    )
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params + extra)
        while batch := cursor.fetchmany(2000):
            for row in batch:
                yield (*row[:8], f"{row[8]:.2f}")


def simulation_latest(*, plan) -> Job | None:
    """The plan's most recent simulation job (any status), for the comparison page."""
    return (
        Job.objects.filter(
            workspace_id=plan.workspace_id, handler="planning.simulate", params__plan=plan.pk
        )
        .order_by("-created_at", "-id")
        .first()
    )


def simulation_succeeded_latest(*, plan) -> Job | None:
    return (
        Job.objects.filter(
            workspace_id=plan.workspace_id,
            handler="planning.simulate",
            params__plan=plan.pk,
            status=JobStatus.SUCCEEDED,
        )
        .order_by("-created_at", "-id")
        .first()
    )


# --- rebalancing ----------------------------------------------------------------------------

SPLIT_FIELDS = {
    "state": "a.fields ->> 'state'",
    "postal_prefix": "left(a.fields ->> 'postal_code', 3)",
    "industry": "a.fields ->> 'industry'",
    "country": "a.fields ->> 'country'",
}


def _cells_source(*, plan, workspace_id) -> tuple[str, list, str]:
    """Where a plan's (account, territory, owner) rows come from: the book for the active
    plan, else the plan's latest finished simulation (409 without one)."""
    from revorg.errors import ConflictError

    accounts = Account._meta.db_table
    if plan.status == "active":
        return (
            f"SELECT a.id, a.crm_id, a.domain, a.territory_id, a.owner_id, a.fields "
            f"FROM {accounts} a WHERE a.workspace_id = %s",
            [workspace_id],
            "book",
        )
    job = simulation_succeeded_latest(plan=plan)
    if job is None:
        raise ConflictError("simulate this plan against the book first: suggestions read it")
    return (
        f"SELECT a.id, a.crm_id, a.domain, s.territory_id, s.owner_id, a.fields "
        f"FROM {SimulatedAccount._meta.db_table} s JOIN {accounts} a ON a.id = s.account_id "
        "WHERE s.job_id = %s AND s.workspace_id = %s",
        [job.pk, workspace_id],
        f"simulation job {job.pk}",
    )


def rebalance_input(*, plan) -> tuple:
    """The plan's territories with their cells counted in SQL (accounts not locked nor
    named yet, so a suggestion never moves an account a person pinned), member names, the
    source, and the fetch of a cell's first accounts (only those a suggestion moves are
    ever read one by one)."""
    from territories.models import AccountLock

    from .rebalance import TerritoryBook

    workspace_id = plan.workspace_id
    source_sql, params, source = _cells_source(plan=plan, workspace_id=workspace_id)
    rows = list(
        Territory.objects.filter(plan=plan).values("id", "name", "parent_id", "named_accounts")
    )
    primaries: dict[int, list[int]] = {}
    for territory_id, member_id in (
        TerritorySlot.objects.filter(territory__plan=plan, role="primary")
        .order_by("position", "id")
        .values_list("territory_id", "member_id")
    ):
        primaries.setdefault(territory_id, []).append(member_id)
    pinned = [
        key.lower()
        for key in AccountLock.objects.filter(workspace_id=workspace_id).values_list(
            "account", flat=True
        )
    ]
    for row in rows:
        pinned += [str(key).lower() for key in row["named_accounts"] or ()]
    books = {
        row["id"]: TerritoryBook(
            row["id"], row["name"], row["parent_id"], primaries.get(row["id"], [])
        )
        for row in rows
    }
    movable = _movable_sql(source_sql)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT c.territory_id, c.owner_id, count(*), sum(c.amount) FROM ({movable}) c "
            "GROUP BY c.territory_id, c.owner_id",
            [*params, workspace_id, pinned, pinned],
        )
        for territory_id, owner_id, count, amount in cursor.fetchall():
            book = books.get(territory_id)
            if book is not None:
                book.cells[owner_id] = (count, Decimal(amount or 0))

    def fetch(territory_id, owner_id, count, taken) -> list:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT c.id, c.amount FROM ({movable}) c WHERE c.territory_id = %s "
                "AND c.owner_id = %s AND c.id <> ALL(%s) ORDER BY c.id LIMIT %s",
                [*params, workspace_id, pinned, pinned, territory_id, owner_id, taken, count],
            )
            return [(account_id, Decimal(amount or 0)) for account_id, amount in cursor]

    member_ids = {m for ids in primaries.values() for m in ids}
    names = dict(Member.objects.filter(pk__in=member_ids).values_list("id", "name"))
    return list(books.values()), names, source, source_sql, params, fetch


def _movable_sql(source_sql: str) -> str:
    """The source's accounts with a territory and their open pipeline, less the pinned ones
    (locked, or named by a territory): params are the source's, the workspace, pinned twice."""
    return (
        f"SELECT c.id, c.territory_id, c.owner_id, coalesce(o.amount, 0) AS amount "
        f"FROM ({source_sql}) c LEFT JOIN (SELECT account_id, sum(coalesce(amount, 0)) AS amount "
        f"FROM {Opportunity._meta.db_table} WHERE workspace_id = %s AND NOT is_closed "
        "GROUP BY account_id) o ON o.account_id = c.id "
        "WHERE c.territory_id IS NOT NULL AND lower(c.crm_id) <> ALL(%s) "
        "AND (c.domain = '' OR lower(c.domain) <> ALL(%s))"
    )


def split_values(*, source_sql: str, params: list, territory_id: int) -> dict:
    """Accounts per value of each split field in one territory (top 200 values each)."""
    out = {}
    with connection.cursor() as cursor:
        for name, expression in SPLIT_FIELDS.items():
            expression = expression.replace("a.fields", "c.fields")
            cursor.execute(
                f"SELECT {expression}, count(*) FROM ({source_sql}) c WHERE c.territory_id = %s "
                "GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 200",
                [*params, territory_id],
            )
            out[name] = [(value or "", count) for value, count in cursor.fetchall()]
    return out


def rebalance_suggestions(*, plan) -> dict:
    from . import rebalance

    if connection.vendor != "postgresql":  # its SQL binds lists as arrays (`<> ALL(…)`)
        raise ApplicationError(
            "Rebalancing suggestions need Postgres; the SQLite demo (make run) shows the rest "
            "of the comparison."
        )

    territories, names, source, source_sql, params, fetch = rebalance_input(plan=plan)
    found = rebalance.moves_suggest(
        plan_id=plan.pk, territories=territories, names=names, fetch=fetch
    )
    splits, merges = rebalance.density_flags(territories)
    balance_before = found["balance"]
    return {
        "plan": {"id": plan.pk, "name": plan.name},
        "source": source,
        "balance": {
            "accounts": {"before": balance_before[0], "after": _final(found, 0)},
            "pipeline": {"before": balance_before[1], "after": _final(found, 1)},
        },
        "moves": found["moves"],
        "splits": [
            {
                "territory": {"id": t.id, "name": t.name},
                "accounts": t.accounts,
                "open_pipeline": f"{t.pipeline:.2f}",
                "reason": reason,
                **rebalance.split_proposal(
                    split_values(source_sql=source_sql, params=params, territory_id=t.id)
                ),
            }
            for t, reason in splits
        ],
        "merges": [
            {
                "territory": {"id": t.id, "name": t.name},
                "accounts": t.accounts,
                "open_pipeline": f"{t.pipeline:.2f}",
                "reason": reason,
                "merge_with": {"id": p.id, "name": p.name} if p else None,
            }
            for t, reason, p in merges
        ],
    }


def _final(found, index):
    moves = found["moves"]
    if not moves:
        return found["balance"][index]
    key = "accounts" if index == 0 else "pipeline"
    return moves[-1]["effect"][key]["after"]
