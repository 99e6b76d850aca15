"""Reads of the book: lists, an account's history, and coverage of the active plan."""

import orjson
from django.db import connection
from django.db.models import Count, QuerySet, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from allocation.models import Allocation, RecordType
from members.models import Member
from territories.models import Territory, TerritorySlot
from territories.selectors import plan_get_active

from .models import Account, AccountOverlay, AccountStatus, Opportunity

# Upper bounds of the employee-count bands white space is grouped by.
SIZE_BANDS = ((50, "1-49"), (200, "50-199"), (1000, "200-999"), (5000, "1000-4999"))
LARGEST_BAND = "5000+"
UNKNOWN_BAND = "unknown"


def account_record(crm_id: str, domain: str, fields: dict | None) -> dict:
    """The record the territories' matcher resolves for an account: its fields, its CRM id
    as `account_id`, its domain."""
    record = {**(fields or {}), "account_id": crm_id}
    if domain:
        record["domain"] = domain
    return record


def account_records(accounts: QuerySet, *columns: str) -> list[tuple]:
    """(id, record, *columns) of each account (`account_record`). The fields are read as
    text and parsed with orjson: decoding JSON is much of what reading a million accounts
    costs."""
    rows = (
        accounts.order_by()
        .annotate(fields_text=Cast("fields", output_field=TextField()))
        .values_list("id", "crm_id", "domain", "fields_text", *columns)
    )
    return [
        (account_id, account_record(crm_id, domain, orjson.loads(text) if text else None), *rest)
        for account_id, crm_id, domain, text, *rest in rows
    ]


def book_sizes(*, workspace_id: int, member_ids) -> dict[int, int]:
    """How many accounts each member owns: what an `accounts` capacity counts."""
    rows = (
        Account.objects.filter(workspace_id=workspace_id, owner_id__in=list(member_ids))
        .values("owner_id")
        .annotate(n=Count("id"))
        .values_list("owner_id", "n")
    )
    return dict(rows)


ORPHANED_LISTED = 100


def accounts_new_uncovered(*, workspace, since, provider: str | None = None) -> list[dict]:
    """Accounts created since `since` (of one CRM, or CSV when provider is "") that no
    territory of the active plan covers, resolved as re-evaluation will: what the
    `account.orphaned` event lists."""
    from territories.selectors import matcher_for_plan

    plan = plan_get_active(workspace=workspace)
    new = Account.objects.filter(workspace=workspace, created_at__gte=since)
    if provider is not None:
        new = new.filter(crm_provider=provider)
    matcher = matcher_for_plan(plan=plan) if plan is not None else None
    uncovered = []
    for pk, crm_id, name, domain, fields in new.values_list(
        "id", "crm_id", "name", "domain", "fields"
    ).iterator(chunk_size=5000):
        if (
            matcher is not None
            and matcher.resolve(account_record(crm_id, domain, fields)).winner is not None
        ):
            continue
        uncovered.append({"id": pk, "crm_id": crm_id, "name": name, "domain": domain})
    return uncovered


def orphaned_event_data(*, job, source: str, accounts: list[dict]) -> dict:
    """The `account.orphaned` payload: one per sync or import job, the first accounts listed."""
    return {
        "job": job.pk,
        "source": source,
        "count": len(accounts),
        "accounts": accounts[:ORPHANED_LISTED],
        "truncated": len(accounts) > ORPHANED_LISTED,
    }


def account_list(*, workspace) -> QuerySet[Account]:
    return Account.objects.filter(workspace=workspace).select_related("territory", "owner")


def opportunity_list(*, workspace) -> QuerySet[Opportunity]:
    return Opportunity.objects.filter(workspace=workspace).select_related("account", "owner")


def account_history(*, account: Account) -> QuerySet[Allocation]:
    """Its allocation entries, newest first (entries of record type `account` by CRM id)."""
    return (
        Allocation.objects.filter(
            workspace_id=account.workspace_id,
            record_type=RecordType.ACCOUNT,
            record_id=account.crm_id,
        )
        .select_related("owner", "territory")
        .order_by("-created_at", "-id")
    )


def account_overlays(*, accounts) -> dict[int, list[dict]]:
    """Overlay members per account ({id, name, until}), for the accounts shown: the overlay
    slots of its territory (no end) and the members overlaid on the account itself until a
    time (a transition's overlap), the latter only while it lasts."""
    accounts = list(accounts)
    by_territory: dict[int, list[dict]] = {}
    for territory_id, member_id, name in (
        TerritorySlot.objects.filter(
            territory_id__in={a.territory_id for a in accounts if a.territory_id}, role="overlay"
        )
        .order_by("position", "id")
        .values_list("territory_id", "member_id", "member__name")
    ):
        by_territory.setdefault(territory_id, []).append(
            {"id": member_id, "name": name, "until": None}
        )
    overlays = {a.pk: list(by_territory.get(a.territory_id, [])) for a in accounts}
    for account_id, member_id, name, until in AccountOverlay.objects.filter(
        account_id__in=list(overlays), until__gt=timezone.now()
    ).values_list("account_id", "member_id", "member__name", "until"):
        if all(o["id"] != member_id for o in overlays[account_id]):
            overlays[account_id].append({"id": member_id, "name": name, "until": until})
    return overlays


def _size_band_sql(column: str) -> str:
    if connection.vendor == "postgresql":
        number = f"(CASE WHEN ({column}) ~ '^[0-9]+(\\.[0-9]+)?$' THEN ({column})::numeric END)"
    else:  # SQLite (`make run`): no regex operator, no ::numeric
        number = (
            f"(CASE WHEN ({column}) GLOB '[0-9]*' AND NOT ({column}) GLOB '*[^0-9.]*' "
            f"THEN CAST(({column}) AS REAL) END)"
        )
    cases = " ".join(f"WHEN {number} < {bound} THEN '{label}'" for bound, label in SIZE_BANDS)
    return f"CASE WHEN {number} IS NULL THEN '{UNKNOWN_BAND}' {cases} ELSE '{LARGEST_BAND}' END"


def coverage_summary(*, workspace) -> dict:
    """The headline figures of coverage (the dashboard card): two aggregate queries."""
    accounts = Account._meta.db_table
    members = Member._meta.db_table
    territories = Territory._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), "
            "count(*) FILTER (WHERE a.status = %s), "
            "count(*) FILTER (WHERE a.runner_up_id IS NOT NULL), "
            "count(*) FILTER (WHERE a.crm_owner_id <> '' AND m.id IS NOT NULL "
            "AND m.crm_user_id IS DISTINCT FROM a.crm_owner_id) "
            f"FROM {accounts} a LEFT JOIN {members} m ON m.id = a.owner_id "
            "WHERE a.workspace_id = %s",
            [AccountStatus.ORPHANED, workspace.pk],
        )
        total, orphaned, conflicts, mismatches = cursor.fetchone()
        cursor.execute(
            f"SELECT t.id, t.name, count(*) FROM {accounts} a JOIN {territories} t "
            "ON t.id = a.territory_id WHERE a.workspace_id = %s AND a.status = %s "
            "GROUP BY t.id, t.name ORDER BY count(*) DESC, t.id",
            [workspace.pk, AccountStatus.VACANT],
        )
        vacant = [{"id": i, "name": n, "accounts": c} for i, n, c in cursor.fetchall()]
    return {
        "accounts": total,
        "orphaned": orphaned,
        "vacant_territories": vacant,
        "conflicts": conflicts,
        "owner_mismatches": mismatches,
    }


def coverage_get(*, workspace) -> dict:
    """How well the active plan covers the book, as SQL aggregates (DESIGN §7)."""
    accounts = Account._meta.db_table
    opportunities = Opportunity._meta.db_table
    territories = Territory._meta.db_table
    summary = coverage_summary(workspace=workspace)
    with connection.cursor() as cursor:
        # Counted by ids, named after the LIMIT: a join per account costs 3x the count.
        cursor.execute(
            "SELECT p.territory_id, t.name, p.runner_up_id, r.name, p.n FROM ("
            "SELECT territory_id, runner_up_id, count(*) AS n "
            f"FROM {accounts} WHERE workspace_id = %s AND runner_up_id IS NOT NULL "
            "AND territory_id IS NOT NULL GROUP BY 1, 2 ORDER BY n DESC, 1, 2 LIMIT 100) p "
            f"JOIN {territories} t ON t.id = p.territory_id "
            f"JOIN {territories} r ON r.id = p.runner_up_id "
            "ORDER BY p.n DESC, p.territory_id, p.runner_up_id",
            [workspace.pk],
        )
        conflict_pairs = [
            {"territory": {"id": t, "name": tn}, "runner_up": {"id": r, "name": rn}, "accounts": c}
            for t, tn, r, rn, c in cursor.fetchall()
        ]
        band = _size_band_sql("a.fields ->> 'employees'")
        cursor.execute(
            "SELECT coalesce(a.fields ->> 'country', ''), coalesce(a.fields ->> 'state', ''), "
            f"coalesce(a.fields ->> 'industry', ''), {band} AS size_band, count(*), "
            "coalesce(sum(o.open_amount), 0) "
            f"FROM {accounts} a LEFT JOIN (SELECT account_id, sum(amount) AS open_amount "
            f"FROM {opportunities} WHERE workspace_id = %s AND NOT is_closed "
            "GROUP BY account_id) o ON o.account_id = a.id "
            "WHERE a.workspace_id = %s AND a.status = %s GROUP BY 1, 2, 3, 4 "
            "ORDER BY count(*) DESC, 1, 2, 3, 4 LIMIT 500",
            [workspace.pk, workspace.pk, AccountStatus.ORPHANED],
        )
        white_space = [
            {
                "country": country,
                "state": state,
                "industry": industry,
                "size_band": size_band,
                "accounts": count,
                "open_pipeline": f"{pipeline:.2f}",
            }
            for country, state, industry, size_band, count, pipeline in cursor.fetchall()
        ]
    plan = plan_get_active(workspace=workspace)
    return {
        "plan": {"id": plan.pk, "name": plan.name} if plan else None,
        **summary,
        "conflict_pairs": conflict_pairs,
        "white_space": white_space,
    }
