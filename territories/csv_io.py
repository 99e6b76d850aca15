"""Territories and named accounts as CSV: imports (preview, then all or nothing, one plan
version per file) and the export.

Territory format (one territory a row, matched on `name` within the plan, case-insensitive):

- `name` (required), `parent` (a territory's name, in the plan or in the file; blank: a
  root), `description`, `kind`, `priority`, `distribution`, `is_active` (true/false);
- single-field rules: `country`, `state`, `region`, `city`, `postal_code`, `industry`
  (one value: equals; several separated by `;`: any of them), `employees_min`,
  `employees_max`, `annual_revenue_min`, `annual_revenue_max` (inclusive bounds); `rule`
  takes a whole JSON rule (DESIGN.md section 3). Every filled rule cell of a row must hold:
  they are combined with "all";
- `member_rule` (JSON), `named_accounts` (domains or CRM account ids, `;`-separated);
- slots: `primary`, `backup`, `overlay`, each member emails separated by `;`, in rotation
  order, an optional weight after a colon (`ada@acme.com:3`);
- `fallback_member` (an email), `fallback_territory` (a territory's name).

A column left out of the file leaves that setting of existing territories as it is (for
slots: the slots of that role); `id` (what the export adds) is ignored, so an export imports
back unchanged.

Named-account format: `territory` (a name in the plan) and `account` per row; the accounts
are added to the territory's list (those already there are left as they are).
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass, field

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
    csv_bool,
    csv_list,
    csv_read,
)
from revorg.errors import ApplicationError
from revorg.services import Actor, audit_record

from . import rules, selectors, services
from .matching import normalize_account
from .models import Distribution, PlanStatus, SlotRole, Territory, TerritoryKind, TerritoryPlan

TEXT_RULE_COLUMNS = ("country", "state", "region", "city", "postal_code", "industry")
RANGE_RULE_COLUMNS = {
    "employees_min": ("employees", "gte"),
    "employees_max": ("employees", "lte"),
    "annual_revenue_min": ("annual_revenue", "gte"),
    "annual_revenue_max": ("annual_revenue", "lte"),
}
RULE_COLUMNS = (*TEXT_RULE_COLUMNS, *RANGE_RULE_COLUMNS, "rule")
SLOT_COLUMNS = ("primary", "backup", "overlay")
EXPORT_COLUMNS = [
    "id",
    "name",
    "parent",
    "description",
    "kind",
    "priority",
    "distribution",
    "is_active",
    "rule",
    "member_rule",
    "named_accounts",
    *SLOT_COLUMNS,
    "fallback_member",
    "fallback_territory",
]
IMPORT_COLUMNS = [*EXPORT_COLUMNS, *TEXT_RULE_COLUMNS, *RANGE_RULE_COLUMNS]
NAMED_ACCOUNT_COLUMNS = ["territory", "account"]
MAX_PRIORITY = 1_000_000
MAX_NAMED_ACCOUNTS = 50_000


def import_plan(*, workspace, plan_id=None) -> TerritoryPlan:
    """The plan an import writes to: the given one (of this workspace) or the active one.
    Archived plans are history and refuse it."""
    if plan_id is None:
        plan = selectors.plan_get_active(workspace=workspace) or services.plan_ensure_active(
            workspace=workspace
        )
    else:
        plan = TerritoryPlan.objects.filter(workspace=workspace, pk=plan_id).first()
        if plan is None:
            raise ApplicationError("no such plan in this workspace", field="plan")
    if plan.status == PlanStatus.ARCHIVED:
        raise ApplicationError("an archived plan is read-only; clone it first", field="plan")
    return plan


def export_default_filters(*, workspace) -> dict:
    """Without a `plan`, the export is the active plan's, as the territories page shows."""
    plan = selectors.plan_get_active(workspace=workspace)
    return {"plan": plan.pk} if plan else {}


def territory_snapshot(territory: Territory) -> dict:
    """What the audit log keeps of a territory before and after an import."""
    return {
        "name": territory.name,
        "description": territory.description,
        "kind": territory.kind,
        "parent": territory.parent_id,
        "priority": territory.priority,
        "rule": territory.rule,
        "named_accounts": territory.named_accounts,
        "member_rule": territory.member_rule,
        "distribution": territory.distribution,
        "fallback_member": territory.fallback_member_id,
        "fallback_territory": territory.fallback_territory_id,
        "is_active": territory.is_active,
        "slots": [
            {"member": s.member_id, "role": s.role, "weight": s.weight, "position": s.position}
            for s in territory.slots.all()
        ],
    }


@dataclass
class _Planned:
    row: CsvRow
    territory: Territory | None
    values: dict = field(default_factory=dict)
    slots: dict[str, list[dict]] = field(default_factory=dict)
    parent_name: str | None = None
    fallback_name: str | None = None


def _number(text: str) -> int | float | None:
    try:
        number = float(text)
    except ValueError:
        return None
    if number != number or number in (float("inf"), float("-inf")):
        return None
    return int(number) if number.is_integer() else number


def _json_cell(row: CsvRow, column: str, errors: list[RowError], *, member_refs=False):
    text = row.get(column)
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        errors.append(RowError(row.line, column, "must be a JSON rule"))
        return None
    problems = rules.validate_rule(value, allow_member_refs=member_refs)
    for problem in problems:
        where = f"at {problem['path']}: " if problem["path"] else ""
        errors.append(RowError(row.line, column, f"{where}{problem['message']}"))
    return None if problems else value


def _rule_of(row: CsvRow, errors: list[RowError]):
    """The row's rule: its single-field cells and its `rule` cell, all of them holding."""
    conditions = []
    for column in TEXT_RULE_COLUMNS:
        values = csv_list(row.get(column))
        if len(values) == 1:
            conditions.append({"field": column, "op": "eq", "value": values[0]})
        elif values:
            conditions.append({"field": column, "op": "in", "value": values})
    for column, (field_name, op) in RANGE_RULE_COLUMNS.items():
        if not row.get(column):
            continue
        number = _number(row.get(column))
        if number is None:
            errors.append(RowError(row.line, column, "must be a number"))
        else:
            conditions.append({"field": field_name, "op": op, "value": number})
    whole = _json_cell(row, "rule", errors)
    if whole is not None:
        conditions.append(whole)
    if not conditions:
        return None
    rule = conditions[0] if len(conditions) == 1 else {"all": conditions}
    for problem in rules.validate_rule(rule):
        errors.append(RowError(row.line, "rule", problem["message"]))
    return rule


def _slots_of(row: CsvRow, role: str, members: dict[str, Member], errors: list[RowError]):
    slots, seen = [], set()
    for position, item in enumerate(csv_list(row.get(role))):
        email, _, weight_text = item.partition(":")
        email = email.strip().lower()
        member = members.get(email)
        if member is None:
            errors.append(RowError(row.line, role, f"no member with email {email}"))
            continue
        weight = 1
        if weight_text.strip():
            weight = _number(weight_text.strip())
            if not isinstance(weight, int) or not 1 <= weight <= 1000:
                errors.append(RowError(row.line, role, f"{email}: weight must be 1 to 1000"))
                continue
        if email in seen:
            errors.append(RowError(row.line, role, f"{email} is listed twice"))
            continue
        seen.add(email)
        slots.append({"member": member, "role": role, "weight": weight, "position": position})
    return slots


def _choice(row, column, choices, values, errors):
    if row.has(column) and row.get(column):
        if row.get(column) in choices:
            values[column] = row.get(column)
        else:
            errors.append(RowError(row.line, column, f"must be one of {', '.join(choices)}"))


def _row_values(row: CsvRow, members: dict[str, Member], errors: list[RowError], header):
    """Model values of the columns the file has (parent and fallback territory aside)."""
    values: dict = {"name": row.get("name")}
    if len(row.get("name")) > 200:
        errors.append(RowError(row.line, "name", "at most 200 characters"))
    if row.has("description"):
        values["description"] = row.get("description")
    _choice(row, "kind", TerritoryKind.values, values, errors)
    _choice(row, "distribution", Distribution.values, values, errors)
    if row.has("priority") and row.get("priority"):
        priority = _number(row.get("priority"))
        if not isinstance(priority, int) or abs(priority) > MAX_PRIORITY:
            errors.append(RowError(row.line, "priority", f"a whole number within ±{MAX_PRIORITY}"))
        else:
            values["priority"] = priority
    if row.has("is_active") and row.get("is_active"):
        flag = csv_bool(row.get("is_active"))
        if flag is None:
            errors.append(RowError(row.line, "is_active", "must be true or false"))
        else:
            values["is_active"] = flag
    if any(column in header for column in RULE_COLUMNS):
        values["rule"] = _rule_of(row, errors)
    if row.has("member_rule"):
        values["member_rule"] = _json_cell(row, "member_rule", errors, member_refs=True)
    if row.has("named_accounts"):
        cell = csv_list(row.get("named_accounts"))
        accounts = list(dict.fromkeys(normalize_account(account) for account in cell))
        if any(len(account) > 255 for account in accounts):
            errors.append(RowError(row.line, "named_accounts", "an account is over 255 characters"))
        values["named_accounts"] = accounts
    if row.has("fallback_member"):
        email = row.get("fallback_member").lower()
        values["fallback_member"] = members.get(email) if email else None
        if email and email not in members:
            errors.append(RowError(row.line, "fallback_member", f"no member with email {email}"))
    return values


def _members_by_email(*, workspace, table) -> dict[str, Member]:
    emails = set()
    for row in table.rows:
        for role in SLOT_COLUMNS:
            emails |= {item.partition(":")[0].strip().lower() for item in csv_list(row.get(role))}
        emails.add(row.get("fallback_member").lower())
    return {
        member.email_key: member
        for member in Member.objects.filter(workspace=workspace)
        .annotate(email_key=Lower("email"))
        .filter(email_key__in=emails - {""})
    }


def _tree_order(planned: list[_Planned], existing: dict[str, Territory], errors) -> list:
    """File rows, each after the file row that is its parent; unknown parents and cycles are
    errors of the `parent` column."""
    by_name = {p.row.get("name").lower(): p for p in planned}
    for p in planned:
        if p.parent_name and p.parent_name not in by_name and p.parent_name not in existing:
            errors.append(RowError(p.row.line, "parent", f"no territory named {p.parent_name}"))
        if p.fallback_name and p.fallback_name not in by_name and p.fallback_name not in existing:
            errors.append(
                RowError(p.row.line, "fallback_territory", f"no territory named {p.fallback_name}")
            )
    parents = {
        name: (t.parent.name.lower() if t.parent_id else None) for name, t in existing.items()
    }
    parents.update({name: p.parent_name for name, p in by_name.items()})
    ordered, placed = [], set()

    def depth_first(p: _Planned, trail: tuple) -> bool:
        name = p.row.get("name").lower()
        if name in placed:
            return True
        if name in trail:
            return False
        parent = by_name.get(p.parent_name) if p.parent_name else None
        if parent is not None and not depth_first(parent, (*trail, name)):
            return False
        placed.add(name)
        ordered.append(p)
        return True

    for p in planned:
        cursor, seen = p.row.get("name").lower(), set()
        while cursor and cursor not in seen:
            seen.add(cursor)
            cursor = parents.get(cursor)
        if cursor or not depth_first(p, ()):
            errors.append(RowError(p.row.line, "parent", "this parent would create a cycle"))
    return ordered


def territory_import(
    *, workspace, actor: Actor, raw: bytes, dry_run: bool = False, plan_id=None
) -> ImportResult:
    """Checks every row, then (unless a dry run) creates and updates the plan's territories
    through the territory services in one transaction, each change audited and the plan's
    version bumped once. Any error: ImportRefused, nothing written."""
    plan = import_plan(workspace=workspace, plan_id=plan_id)
    if dry_run:
        return _territory_import(workspace=workspace, actor=actor, raw=raw, plan=plan, dry_run=True)
    with transaction.atomic():
        _lock_plan(plan=plan)
        return _territory_import(
            workspace=workspace, actor=actor, raw=raw, plan=plan, dry_run=False
        )


def _lock_plan(*, plan: TerritoryPlan) -> None:
    """Edits of one plan's tree run one at a time (the row lock territory edits take): the
    file is checked against the tree as it is once the lock is held."""
    locked = TerritoryPlan.objects.select_for_update(no_key=True).filter(pk=plan.pk).first()
    if locked is None or locked.status == PlanStatus.ARCHIVED:
        raise ApplicationError("this plan was archived or deleted meanwhile", field="plan")


def _territory_import(*, workspace, actor, raw, plan, dry_run) -> ImportResult:
    table = csv_read(raw=raw, columns=IMPORT_COLUMNS, required=("name",))
    result = ImportResult(errors=list(table.errors))
    if any(error.line == 1 for error in table.errors):
        raise ImportRefused(result.errors)
    existing: dict[str, Territory] = {}
    duplicated: set[str] = set()
    for territory in Territory.objects.filter(plan=plan).select_related("parent"):
        key = territory.name.lower()
        duplicated |= {key} if key in existing else set()
        existing[key] = territory
    members = _members_by_email(workspace=workspace, table=table)
    planned: list[_Planned] = []
    seen: dict[str, int] = {}
    for row in table.rows:
        errors: list[RowError] = []
        name = row.get("name").lower()
        if not name:
            result.errors.append(RowError(row.line, "name", "required"))
            continue
        if name in seen:
            result.errors.append(RowError(row.line, "name", f"already on line {seen[name]}"))
            continue
        seen[name] = row.line
        if name in duplicated:
            errors.append(RowError(row.line, "name", "several territories of the plan have it"))
        p = _Planned(row=row, territory=existing.get(name))
        p.values = _row_values(row, members, errors, table.header)
        for role in SLOT_COLUMNS:
            if row.has(role):
                p.slots[role] = _slots_of(row, role, members, errors)
        if row.has("parent"):
            p.parent_name = row.get("parent").lower() or None
            if p.parent_name == name:
                errors.append(RowError(row.line, "parent", "a territory cannot be its own parent"))
        elif p.territory is not None and p.territory.parent_id:
            p.parent_name = p.territory.parent.name.lower()
        if row.has("fallback_territory"):
            p.fallback_name = row.get("fallback_territory").lower() or None
        result.errors.extend(errors)
        planned.append(p)  # a row with errors still has its parent checked
    ordered = _tree_order(planned, existing, result.errors)
    result.changes = [
        ImportChange(
            line=p.row.line,
            action="update" if p.territory else "create",
            key=p.row.get("name"),
            detail=f"parent {p.parent_name}" if p.parent_name else "root",
        )
        for p in planned
    ]
    result.errors.sort(key=lambda error: (error.line, error.column or ""))
    if result.errors:
        raise ImportRefused(result.errors)
    if not dry_run:
        _apply_territories(
            workspace=workspace, actor=actor, plan=plan, ordered=ordered, existing=existing
        )
        result.applied = True
    return result


def _slots_with_kept(p: _Planned) -> list[dict] | None:
    """The territory's new slots: the file's roles replaced, the other roles kept."""
    if not p.slots:
        return None
    kept = []
    if p.territory is not None:
        kept = [
            {
                "member": s.member,
                "role": s.role,
                "weight": s.weight,
                "position": s.position,
                "credit_percent": s.credit_percent,
            }
            for s in p.territory.slots.select_related("member")
            if s.role not in p.slots
        ]
    return kept + [slot for role in SlotRole.values for slot in p.slots.get(role, [])]


@transaction.atomic
def _apply_territories(*, workspace, actor, plan, ordered: list[_Planned], existing) -> None:
    by_name = dict(existing)
    befores = {}
    for p in ordered:
        name = p.row.get("name").lower()
        parent = by_name.get(p.parent_name) if p.parent_name else None
        values = {**p.values, "parent": parent}
        slots = _slots_with_kept(p)
        if p.territory is None:
            territory = services.territory_create(
                workspace=workspace, plan=plan, slots=slots, touch_plan=False, **values
            )
            befores[name] = None
        else:
            befores[name] = territory_snapshot(p.territory)
            territory = services.territory_update(
                territory=p.territory, slots=slots, touch_plan=False, **values
            )
        by_name[name] = territory
    for p in ordered:
        if p.row.has("fallback_territory"):
            territory = by_name[p.row.get("name").lower()]
            fallback = by_name.get(p.fallback_name) if p.fallback_name else None
            services.territory_update(
                territory=territory, touch_plan=False, fallback_territory=fallback
            )
    for p in ordered:
        name = p.row.get("name").lower()
        territory = Territory.objects.get(pk=by_name[name].pk)
        audit_record(
            workspace=workspace,
            actor=actor,
            action="update" if befores[name] else "create",
            obj=territory,
            before=befores[name],
            after=territory_snapshot(territory),
        )
    services.plan_touch(plan_id=plan.pk)


def named_account_import(
    *, workspace, actor: Actor, raw: bytes, dry_run: bool = False, plan_id=None
) -> ImportResult:
    """Adds accounts to named-account lists of the plan's territories, in one transaction and
    one plan version. Any error: ImportRefused, nothing written."""
    plan = import_plan(workspace=workspace, plan_id=plan_id)
    if dry_run:
        return _named_account_import(
            workspace=workspace, actor=actor, raw=raw, plan=plan, dry_run=True
        )
    with transaction.atomic():
        _lock_plan(plan=plan)
        return _named_account_import(
            workspace=workspace, actor=actor, raw=raw, plan=plan, dry_run=False
        )


def _named_account_import(*, workspace, actor, raw, plan, dry_run) -> ImportResult:
    table = csv_read(raw=raw, columns=NAMED_ACCOUNT_COLUMNS, required=NAMED_ACCOUNT_COLUMNS)
    result = ImportResult(errors=list(table.errors))
    if any(error.line == 1 for error in table.errors):
        raise ImportRefused(result.errors)
    territories = {t.name.lower(): t for t in Territory.objects.filter(plan=plan)}
    additions: dict[int, list[str]] = {}
    first_line: dict[int, int] = {}
    for row in table.rows:
        territory = territories.get(row.get("territory").lower())
        account = normalize_account(row.get("account"))
        if territory is None:
            result.errors.append(
                RowError(row.line, "territory", f"no territory named {row.get('territory')}")
            )
        if not account:
            result.errors.append(RowError(row.line, "account", "a domain or CRM account id"))
        elif len(account) > 255:
            result.errors.append(RowError(row.line, "account", "at most 255 characters"))
        if territory is None or not account or len(account) > 255:
            continue
        first_line.setdefault(territory.pk, row.line)
        if account not in territory.named_accounts and account not in additions.get(
            territory.pk, []
        ):
            additions.setdefault(territory.pk, []).append(account)
    by_id = {t.pk: t for t in territories.values()}
    for territory_id, accounts in additions.items():
        total = len(by_id[territory_id].named_accounts) + len(accounts)
        if total > MAX_NAMED_ACCOUNTS:
            result.errors.append(
                RowError(
                    first_line[territory_id],
                    "territory",
                    f"{total} named accounts; the limit is {MAX_NAMED_ACCOUNTS}",
                )
            )
    result.changes = [
        ImportChange(
            line=first_line[territory_id],
            action="update",
            key=by_id[territory_id].name,
            detail=f"+{len(accounts)} account{'s' if len(accounts) != 1 else ''}",
        )
        for territory_id, accounts in additions.items()
    ]
    result.errors.sort(key=lambda error: (error.line, error.column or ""))
    if result.errors:
        raise ImportRefused(result.errors)
    if not dry_run and additions:
        _apply_named_accounts(
            workspace=workspace, actor=actor, plan=plan, additions=additions, by_id=by_id
        )
    result.applied = not dry_run
    return result


@transaction.atomic
def _apply_named_accounts(*, workspace, actor, plan, additions, by_id) -> None:
    for territory_id, accounts in additions.items():
        territory = by_id[territory_id]
        before = territory_snapshot(territory)
        territory = services.territory_update(
            territory=territory,
            touch_plan=False,
            named_accounts=[*territory.named_accounts, *accounts],
        )
        audit_record(
            workspace=workspace,
            actor=actor,
            action="update",
            obj=territory,
            before=before,
            after=territory_snapshot(territory),
        )
    services.plan_touch(plan_id=plan.pk)


def _slot_cell(slots, role: str) -> str:
    return ";".join(
        f"{s.member.email}:{s.weight}" if s.weight != 1 else s.member.email
        for s in slots
        if s.role == role
    )


def territory_export_rows(*, queryset: QuerySet[Territory]) -> Iterator[list]:
    """The export's rows: rules as JSON, slots and fallbacks by email and name."""
    territories = queryset.select_related(
        "parent", "fallback_member", "fallback_territory"
    ).prefetch_related("slots__member")
    for territory in territories.order_by("plan_id", "name", "id").iterator(chunk_size=500):
        slots = list(territory.slots.all())
        yield [
            territory.pk,
            territory.name,
            territory.parent.name if territory.parent else "",
            territory.description,
            territory.kind,
            territory.priority,
            territory.distribution,
            territory.is_active,
            territory.rule if territory.rule is not None else "",
            territory.member_rule if territory.member_rule is not None else "",
            ";".join(territory.named_accounts or []),
            *(_slot_cell(slots, role) for role in SLOT_COLUMNS),
            territory.fallback_member.email if territory.fallback_member else "",
            territory.fallback_territory.name if territory.fallback_territory else "",
        ]
