"""Quotas as CSV (import: preview, then all or nothing; export) and the analytics export.

Quota format, one quota a row: `territory_id` or `territory` (a territory's name in the
active plan) or `member_email` — exactly one —, `period_start` and `period_end` (YYYY-MM-DD,
inclusive), `amount` (≥ 0, at most two decimals). A quota of the same owner and period is
updated, any other created; `id` (what the export adds) is ignored, so an export imports
back unchanged.
"""

from collections.abc import Iterator
from datetime import date
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import QuerySet
from django.db.models.functions import Lower

from members.models import Member
from revorg.csv_io import (
    CsvRow,
    ImportChange,
    ImportRefused,
    ImportResult,
    RowError,
    csv_read,
    import_lock,
)
from revorg.services import Actor, audit_record
from territories.selectors import plan_get_active

from .models import Quota
from .periods import EARLIEST, LATEST

QUOTA_COLUMNS = [
    "id",
    "territory_id",
    "territory",
    "member_email",
    "period_start",
    "period_end",
    "amount",
]
MAX_AMOUNT = Decimal("9999999999999999.99")

METRIC_COLUMNS = [
    "quota",
    "won_amount",
    "attainment",
    "win_rate",
    "avg_deal_size",
    "sales_cycle_days",
    "open_pipeline",
    "pipeline_coverage",
    "velocity",
    "accounts",
    "allocations",
    "time_to_accept_p50_minutes",
    "won_deals",
    "closed_deals",
    "open_deals",
    "overlay_credit_won",
    "overlay_credit_pipeline",
]
TERRITORY_EXPORT_COLUMNS = [
    "period_start",
    "period_end",
    "territory_id",
    "territory",
    "kind",
    "parent_id",
    "level",
    *METRIC_COLUMNS,
]
MEMBER_EXPORT_COLUMNS = [
    "period_start",
    "period_end",
    "member_id",
    "member",
    "email",
    *METRIC_COLUMNS,
]


def quota_snapshot(quota: Quota) -> dict:
    return {
        "territory": quota.territory_id,
        "member": quota.member_id,
        "period_start": quota.period_start.isoformat(),
        "period_end": quota.period_end.isoformat(),
        "amount": str(quota.amount),
    }


def _date(row: CsvRow, column: str, errors: list[RowError]) -> date | None:
    text = row.get(column)
    try:
        if len(text) == 10 and EARLIEST <= date.fromisoformat(text) <= LATEST:
            return date.fromisoformat(text)
    except ValueError:
        pass
    errors.append(
        RowError(
            row.line,
            column,
            "required: a date as YYYY-MM-DD"
            if not text
            else "not a date as YYYY-MM-DD between 1900 and 2999",
        )
    )
    return None


def _amount(row: CsvRow, errors: list[RowError]) -> Decimal | None:
    text = row.get("amount").replace(",", "")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        errors.append(
            RowError(row.line, "amount", "required: a number" if not text else "not a number")
        )
        return None
    if not amount.is_finite() or amount < 0 or amount > MAX_AMOUNT:
        errors.append(RowError(row.line, "amount", "must be 0 or more (and below 10^16)"))
        return None
    if amount.as_tuple().exponent < -2:
        errors.append(RowError(row.line, "amount", "at most two decimals"))
        return None
    return amount


def quota_import(*, workspace, actor: Actor, raw: bytes, dry_run: bool = False) -> ImportResult:
    """Checks every row, then (unless a dry run) creates and updates the quotas in one
    transaction, each audited. Any error: ImportRefused, nothing written. Imports of one
    workspace run one at a time."""
    if dry_run:
        return _quota_import(workspace=workspace, actor=actor, raw=raw, dry_run=True)
    with transaction.atomic():
        import_lock(scope="quotas", workspace_id=workspace.pk)
        return _quota_import(workspace=workspace, actor=actor, raw=raw, dry_run=False)


def _quota_import(*, workspace, actor: Actor, raw: bytes, dry_run: bool) -> ImportResult:
    table = csv_read(
        raw=raw, columns=QUOTA_COLUMNS, required=("period_start", "period_end", "amount")
    )
    result = ImportResult(errors=list(table.errors))
    if any(error.line == 1 for error in table.errors):
        raise ImportRefused(result.errors)
    plan = plan_get_active(workspace=workspace)
    territories = plan.territories.all() if plan else []
    by_id = {t.pk: t for t in territories}
    by_name: dict[str, list] = {}
    for territory in by_id.values():
        by_name.setdefault(territory.name.lower(), []).append(territory)
    emails = {row.get("member_email").lower() for row in table.rows if row.get("member_email")}
    members = {
        member.email_key: member
        for member in Member.objects.filter(workspace=workspace)
        .annotate(email_key=Lower("email"))
        .filter(email_key__in=emails)
    }
    existing = {
        (q.territory_id, q.member_id, q.period_start, q.period_end): q
        for q in Quota.objects.filter(workspace=workspace)
    }
    seen: dict[tuple, int] = {}
    planned = []
    for row in table.rows:
        errors: list[RowError] = []
        owners = [c for c in ("territory_id", "territory", "member_email") if row.get(c)]
        territory = member = None
        if len(owners) != 1:
            errors.append(
                RowError(
                    row.line,
                    owners[1] if len(owners) > 1 else "territory",
                    "give exactly one of territory_id, territory and member_email",
                )
            )
        elif owners[0] == "territory_id":
            text = row.get("territory_id")
            territory = by_id.get(int(text)) if text.isascii() and text.isdigit() else None
            if territory is None:
                errors.append(
                    RowError(row.line, "territory_id", f"no territory {text} in the active plan")
                )
        elif owners[0] == "territory":
            found = by_name.get(row.get("territory").lower(), [])
            if len(found) != 1:
                errors.append(
                    RowError(
                        row.line,
                        "territory",
                        f"no territory named {row.get('territory')} in the active plan"
                        if not found
                        else "several territories have this name: use territory_id",
                    )
                )
            else:
                territory = found[0]
        else:
            member = members.get(row.get("member_email").lower())
            if member is None:
                errors.append(
                    RowError(
                        row.line, "member_email", f"no member with email {row.get('member_email')}"
                    )
                )
        start = _date(row, "period_start", errors)
        end = _date(row, "period_end", errors)
        if start and end and end < start:
            errors.append(RowError(row.line, "period_end", "must not be before period_start"))
        amount = _amount(row, errors)
        if errors:
            result.errors.extend(errors)
            continue
        key = (territory.pk if territory else None, member.pk if member else None, start, end)
        if key in seen:
            result.errors.append(
                RowError(row.line, None, f"the same owner and period as line {seen[key]}")
            )
            continue
        seen[key] = row.line
        planned.append((row, key, existing.get(key), territory, member, amount))
    result.changes = [
        ImportChange(
            line=row.line,
            action="update" if quota else "create",
            key=f"{(territory.name if territory else member.email)} {key[2]}…{key[3]}",
            detail=str(amount),
        )
        for row, key, quota, territory, member, amount in planned
    ]
    result.errors.sort(key=lambda error: (error.line, error.column or ""))
    if result.errors:
        raise ImportRefused(result.errors)
    if not dry_run:
        _apply(workspace=workspace, actor=actor, planned=planned)
        result.applied = True
    return result


@transaction.atomic
def _apply(*, workspace, actor: Actor, planned) -> None:
    for _, key, quota, territory, member, amount in planned:
        before = quota_snapshot(quota) if quota else None
        if quota is None:
            quota = Quota(
                workspace=workspace,
                territory=territory,
                member=member,
                period_start=key[2],
                period_end=key[3],
            )
        quota.amount = amount
        quota.save()
        audit_record(
            workspace=workspace,
            actor=actor,
            action="update" if before else "create",
            obj=quota,
            before=before,
            after=quota_snapshot(quota),
        )


def quota_export_rows(*, queryset: QuerySet[Quota]) -> Iterator[list]:
    rows = queryset.select_related("territory", "member").order_by("period_start", "id")
    for quota in rows.iterator(chunk_size=1000):
        yield [
            quota.pk,
            quota.territory_id or "",
            "",  # the id names the territory; a name would make the row ambiguous
            quota.member.email if quota.member else "",
            quota.period_start.isoformat(),
            quota.period_end.isoformat(),
            quota.amount,
        ]


def _metric_cells(row: dict) -> list:
    return ["" if row[name] is None else row[name] for name in METRIC_COLUMNS]


def territory_export_rows(*, rows: list[dict], period) -> Iterator[list]:
    for row in rows:
        t = row["territory"]
        yield [
            period.start.isoformat(),
            period.end.isoformat(),
            t["id"],
            t["name"],
            t["kind"],
            t["parent"] or "",
            t["level"],
            *_metric_cells(row),
        ]


def member_export_rows(*, rows: list[dict], period) -> Iterator[list]:
    for row in rows:
        m = row["member"]
        yield [
            period.start.isoformat(),
            period.end.isoformat(),
            m["id"],
            m["name"],
            m["email"],
            *_metric_cells(row),
        ]
