"""Writes of the book: CSV imports and re-evaluation, both run as chunked jobs.

Re-evaluation of a chunk (DESIGN §7): territories are resolved outside any transaction with
the plan's compiled matcher; then, in the chunk's transaction, the advisory locks of the
territories that must pick an owner (and of their members) are taken in the allocation
engine's order, the chunk's account rows are locked (FOR UPDATE), decisions are made with
rotations, books and capacities read under those locks, and only the changes are written,
set-based (COPY into a temporary table, UPDATE … FROM, one INSERT … SELECT of the history).
"""

import json
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.db.models import Count, Q
from django.utils import timezone

from allocation.book_entries import (
    AccountEntry,
    account_entries_write,
    book_locks_take,
    rotation_states_load,
    rotation_states_save,
)
from allocation.engine import MemberState
from capacities.models import Capacity, Source
from jobs import selectors as job_selectors
from jobs import services as job_services
from jobs.models import JobKind
from members.models import Absence, Member
from revorg.errors import ConflictError
from territories.models import PlanStatus
from territories.selectors import matcher_for_plan, plan_get_active

from . import csv_import
from .assignment import (
    BookMember,
    account_decide,
    account_unchanged,
    needs_pick,
    territory_chain,
)
from .models import Account, AccountStatus, Opportunity

IMPORT_CHUNK_ROWS = 2000
# More advisory keys than this in one chunk take the workspace's single book lock instead.
MAX_LOCK_KEYS = 500

ACCOUNTS_IMPORT = "book.accounts_import"
OPPORTUNITIES_IMPORT = "book.opportunities_import"
REEVALUATE = "book.reevaluate"


# --- imports --------------------------------------------------------------------------------


def book_import_start(*, workspace, actor_label: str, kind: str, raw: bytes):
    """Checks the upload (size, encoding, header) and queues the import job: 202 at once."""
    text = csv_import.csv_decode(raw, max_bytes=settings.BOOK_IMPORT_MAX_BYTES)
    header = csv_import.csv_header(text)
    csv_import.csv_require_columns(header, kind=kind)
    handler = ACCOUNTS_IMPORT if kind == "accounts" else OPPORTUNITIES_IMPORT
    return job_services.job_create(
        workspace=workspace,
        kind=JobKind.IMPORT,
        handler=handler,
        actor_label=actor_label,
        params={"file": kind},
        input_text=text,
    )


def import_plan(job) -> list[dict]:
    """Rows in chunks; rows the csv module refuses and repeated ids are errors of chunk 0."""
    _, rows, errors = csv_import.csv_rows(job.input_text)
    id_columns = ("crm_id", "id") if job.handler == ACCOUNTS_IMPORT else ("crm_id",)
    seen: dict[str, int] = {}
    kept = []
    for row in rows:
        key = next((row.values.get(c) for c in id_columns if row.values.get(c)), "")
        if key and key in seen:
            errors.append(
                {
                    "line": row.line,
                    "column": id_columns[0],
                    "message": f"{key} is repeated (first on line {seen[key]}); row skipped",
                }
            )
            continue
        if key:
            seen[key] = row.line
        kept.append([row.line, row.values])
    chunks = [
        {"rows": kept[start : start + IMPORT_CHUNK_ROWS], "errors": [], "size": 0}
        for start in range(0, len(kept), IMPORT_CHUNK_ROWS)
    ] or [{"rows": [], "errors": [], "size": 0}]
    chunks[0]["errors"] = errors
    for chunk in chunks:
        chunk["size"] = len(chunk["rows"]) + len(chunk["errors"])
    return chunks


def _members_by_email(workspace_id) -> dict[str, int]:
    return {
        email.lower(): member_id
        for member_id, email in Member.objects.filter(workspace_id=workspace_id)
        .exclude(email="")
        .values_list("id", "email")
    }


def accounts_import_apply(job, payload, prepared) -> tuple[dict, list]:
    members_by_email = _members_by_email(job.workspace_id)
    errors = list(payload.get("errors", []))
    good = []
    for line, values in payload["rows"]:
        try:
            good.append(csv_import.account_row_parse(values, members_by_email=members_by_email))
        except csv_import.RowError as exc:
            errors.append({"line": line, "column": exc.column, "message": exc.message})
    created = accounts_upsert(workspace_id=job.workspace_id, provider="", rows=good)
    return {
        "rows": len(payload["rows"]),
        "imported": len(good),
        "created": created,
        "skipped": len(errors),
    }, errors


def accounts_upsert(*, workspace_id, provider: str, rows) -> int:
    """INSERT … ON CONFLICT DO UPDATE (from a COPY on Postgres); returns how many were
    new. CSV (`provider` ''): an owner named by the file becomes the account's owner with
    `assigned_at` cleared, so re-evaluation records it. A CRM sync: the owner is revorg's, so
    the CRM owner's member only fills an account that has none."""
    if not rows:
        return 0
    now = timezone.now()
    fields_field = Account._meta.get_field("fields")
    table = Account._meta.db_table
    owner = (
        f"COALESCE(excluded.owner_id, {table}.owner_id)"
        if not provider
        else f"COALESCE({table}.owner_id, excluded.owner_id)"
    )
    conflict = (
        "ON CONFLICT (workspace_id, crm_provider, crm_id) DO UPDATE SET "
        "name = excluded.name, domain = excluded.domain, fields = excluded.fields, "
        f"owner_id = {owner}, "
        "crm_owner_id = CASE WHEN excluded.crm_owner_id <> '' "
        f"THEN excluded.crm_owner_id ELSE {table}.crm_owner_id END, "
        f"assigned_at = CASE WHEN {owner} IS DISTINCT FROM {table}.owner_id THEN NULL "
        f"ELSE {table}.assigned_at END, updated_at = excluded.updated_at "
        "RETURNING created_at = updated_at"
    )
    columns = (
        "workspace_id, crm_provider, crm_id, name, domain, fields, owner_id, crm_owner_id, "
        "status, assigned_at, created_at, updated_at"
    )
    if connection.vendor == "postgresql":
        return _accounts_upsert_copy(workspace_id, provider, rows, columns, conflict, now)
    created = 0
    for start in range(0, len(rows), 1000):
        batch = rows[start : start + 1000]
        values, params = [], []
        for row in batch:
            values.append("(%s, %s, %s, %s, %s, %s, %s, %s, %s, NULL, %s, %s)")
            params += [
                workspace_id,
                provider,
                row["crm_id"],
                row["name"],
                row["domain"],
                fields_field.get_db_prep_save(row["fields"], connection),
                row["owner_id"],
                row["crm_owner_id"],
                AccountStatus.ORPHANED,
                now,
                now,
            ]
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {', '.join(values)} {conflict}", params
            )
            created += sum(1 for (is_new,) in cursor.fetchall() if is_new)
    return created


def _accounts_upsert_copy(workspace_id, provider, rows, columns, conflict, now) -> int:
    """Postgres: the rows COPY'd into a temporary table, then one INSERT … SELECT … ON
    CONFLICT (binding a hundred thousand parameters costs more than the write itself)."""
    table = Account._meta.db_table
    with connection.cursor() as cursor:
        # Dropped at commit; dropped here too when an outer transaction is still open.
        cursor.execute("DROP TABLE IF EXISTS book_account_in")
        cursor.execute(
            "CREATE TEMP TABLE book_account_in (ord int, crm_id text, name text, domain text, "
            "fields jsonb, owner_id bigint, crm_owner_id text) ON COMMIT DROP"
        )
        with cursor.cursor.copy(
            "COPY book_account_in (ord, crm_id, name, domain, fields, owner_id, crm_owner_id) "
            "FROM STDIN"
        ) as copy:
            for ord_, row in enumerate(rows):
                copy.write_row(
                    (
                        ord_,
                        row["crm_id"],
                        row["name"],
                        row["domain"],
                        json.dumps(row["fields"]),
                        row["owner_id"],
                        row["crm_owner_id"],
                    )
                )
        # A repeated id keeps its last row (one statement cannot update a row twice).
        cursor.execute(
            f"INSERT INTO {table} ({columns}) "
            "SELECT %s, %s, crm_id, name, domain, fields, owner_id, crm_owner_id, %s, NULL, "
            "%s, %s FROM (SELECT DISTINCT ON (crm_id) * FROM book_account_in "
            f"ORDER BY crm_id, ord DESC) t {conflict}",
            [workspace_id, provider, AccountStatus.ORPHANED, now, now],
        )
        return sum(1 for (is_new,) in cursor.fetchall() if is_new)


def accounts_remove_unseen(*, workspace_id, provider: str, seen_since) -> int:
    """After a full CRM sync: the provider's accounts the sync did not touch (not updated
    since it started) are gone from the CRM, so they leave the book with their
    opportunities; their allocation history stays."""
    gone = Account.objects.filter(
        workspace_id=workspace_id, crm_provider=provider, updated_at__lt=seen_since
    )
    _, by_model = gone.delete()
    return by_model.get(Account._meta.label, 0)


def opportunities_upsert(*, workspace_id, provider: str, rows) -> int:
    """Opportunities by (provider, crm_id); a closed deal keeps its account's territory of
    then. Returns how many rows were written."""
    if not rows:
        return 0
    territories = dict(
        Account.objects.filter(pk__in={row["account_id"] for row in rows}).values_list(
            "id", "territory_id"
        )
    )
    Opportunity.objects.bulk_create(
        [
            Opportunity(
                workspace_id=workspace_id,
                crm_provider=provider,
                closed_territory_id=(
                    territories.get(row["account_id"]) if row["is_closed"] else None
                ),
                **row,
            )
            for row in rows
        ],
        update_conflicts=True,
        unique_fields=["workspace", "crm_provider", "crm_id"],
        update_fields=[
            "account",
            "name",
            "owner",
            "stage",
            "probability",
            "amount",
            "close_date",
            "is_closed",
            "is_won",
            "created_date",
            "closed_date",
            "closed_territory",
            "updated_at",
        ],
        batch_size=1000,
    )
    return len(rows)


def opportunities_import_apply(job, payload, prepared) -> tuple[dict, list]:
    members_by_email = _members_by_email(job.workspace_id)
    wanted = {values.get("account_crm_id", "") for _, values in payload["rows"]}
    accounts = dict(
        Account.objects.filter(workspace_id=job.workspace_id, crm_id__in=wanted)
        .order_by("crm_provider")  # a CSV account ('' provider) wins over a CRM one
        .values_list("crm_id", "id")
        .reverse()
    )
    errors = list(payload.get("errors", []))
    good = []
    for line, values in payload["rows"]:
        try:
            good.append(
                csv_import.opportunity_row_parse(
                    values, members_by_email=members_by_email, accounts_by_crm_id=accounts
                )
            )
        except csv_import.RowError as exc:
            errors.append({"line": line, "column": exc.column, "message": exc.message})
    opportunities_upsert(workspace_id=job.workspace_id, provider="", rows=good)
    return {"rows": len(payload["rows"]), "imported": len(good), "skipped": len(errors)}, errors


def after_accounts_import(job) -> None:
    """Accounts changed: re-evaluate the book (debounced)."""
    book_reevaluate_request(workspace=job.workspace, actor_label=f"after import job {job.pk}")


# --- re-evaluation --------------------------------------------------------------------------


def book_reevaluate_start(*, workspace, actor_label: str, plan=None):
    """On demand (API, UI): only the active plan governs the book; 409 otherwise."""
    if plan is not None and plan.status != PlanStatus.ACTIVE:
        raise ConflictError("only the active plan can be re-evaluated; simulate a draft instead")
    return job_services.job_create(
        workspace=workspace, kind=JobKind.REEVALUATE, handler=REEVALUATE, actor_label=actor_label
    )


def book_reevaluate_request(*, workspace, actor_label: str):
    """Debounced: no second job while one is still queued for the workspace (a running one
    may have read the old plan, so a new one is queued behind it)."""
    if job_selectors.job_active_exists(workspace=workspace, handler=REEVALUATE, queued_only=True):
        return None
    return book_reevaluate_start(workspace=workspace, actor_label=actor_label)


def reevaluate_plan(job) -> list[dict]:
    """Chunks of `BOOK_CHUNK_SIZE` accounts as id ranges; the last range is open-ended so
    accounts created meanwhile are not missed."""
    size = settings.BOOK_CHUNK_SIZE
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, n FROM (SELECT id, row_number() OVER (ORDER BY id) AS n "
            f"FROM {Account._meta.db_table} WHERE workspace_id = %s) t "
            "WHERE (n - 1) %% %s = 0 ORDER BY id",
            [job.workspace_id, size],
        )
        starts = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            f"SELECT count(*) FROM {Account._meta.db_table} WHERE workspace_id = %s",
            [job.workspace_id],
        )
        total = cursor.fetchone()[0]
    chunks = []
    for i, start in enumerate(starts):
        last = i == len(starts) - 1
        chunks.append(
            {
                "min_id": start,
                "max_id": None if last else starts[i + 1] - 1,
                "size": total - size * i if last else size,
            }
        )
    return chunks


def _members_load(*, workspace_id, member_ids, with_books: set | None = None) -> dict:
    """Members as the book sees them (state, absence now, `accounts` capacity, and for
    `with_books` the number of accounts each owns)."""
    now = timezone.now()
    absent = set(
        Absence.objects.filter(
            member_id__in=member_ids, starts_at__lte=now, ends_at__gt=now
        ).values_list("member_id", flat=True)
    )
    limits: dict[int, int] = {}
    for member_id, limit in Capacity.objects.filter(
        workspace_id=workspace_id, source=Source.ACCOUNTS, member_id__in=member_ids
    ).values_list("member_id", "limit"):
        limits[member_id] = min(limit, limits.get(member_id, limit))
    counted = set(limits) | (with_books or set())
    owned = dict(
        Account.objects.filter(workspace_id=workspace_id, owner_id__in=counted)
        .values("owner_id")
        .annotate(n=Count("id"))
        .values_list("owner_id", "n")
    )
    members = {}
    for m in Member.objects.filter(workspace_id=workspace_id, pk__in=member_ids).values(
        "id", "name", "is_active", "role", "timezone", "metadata", "crm_provider", "crm_user_id"
    ):
        state = MemberState(
            id=m["id"],
            name=m["name"],
            is_active=m["is_active"],
            absent=m["id"] in absent,
            attributes={**(m["metadata"] or {}), "role": m["role"], "timezone": m["timezone"]},
        )
        member = BookMember(state, owned.get(m["id"], 0), limits.get(m["id"]))
        member.crm = (m["crm_provider"], m["crm_user_id"])
        members[m["id"]] = member
    return members


def _plan_member_ids(matcher, default_member_id) -> set[int]:
    ids = set()
    for territory in matcher.plan.territories:
        ids.update(s.member_id for s in territory.slots)
        if territory.fallback_member_id:
            ids.add(territory.fallback_member_id)
    if default_member_id:
        ids.add(default_member_id)
    return ids


@dataclass
class Prepared:
    matcher: object | None
    resolutions: dict  # account id -> (fields, Resolution)
    pick_territories: set
    pick_members: set
    # Members whose book size a pick reads (least_loaded pools): counted under the locks.
    load_members: set
    read: int = 0  # accounts of the chunk
    orphaned: int = 0  # of which no territory matched


def _range_q(payload) -> Q:
    q = Q(id__gte=payload["min_id"])
    return q if payload["max_id"] is None else q & Q(id__lte=payload["max_id"])


def reevaluate_prepare(job, payload) -> Prepared:
    """Outside the transaction: every account of the chunk through the compiled matcher;
    those that would stay exactly as they are are dropped here (a rerun with nothing
    changed locks and writes nothing). For the others it notes which territories will have
    to pick an owner: their locks are taken first."""
    workspace = job.workspace
    plan = plan_get_active(workspace=workspace)
    matcher = matcher_for_plan(plan=plan) if plan else None
    rows = Account.objects.filter(_range_q(payload), workspace_id=workspace.pk)
    resolutions = {}
    pick_territories: set[int] = set()
    read = orphaned = 0
    members = {}
    if matcher is not None:
        members = _members_load(
            workspace_id=workspace.pk,
            member_ids=_plan_member_ids(matcher, workspace.default_member_id),
        )
    for (
        account_id,
        crm_id,
        domain,
        fields,
        owner_id,
        territory_id,
        runner_up_id,
        status,
        assigned_at,
    ) in rows.values_list(
        "id",
        "crm_id",
        "domain",
        "fields",
        "owner_id",
        "territory_id",
        "runner_up_id",
        "status",
        "assigned_at",
    ):
        record = {**(fields or {}), "account_id": crm_id}
        if domain:
            record["domain"] = domain
        resolution = matcher.resolve(record) if matcher else _NO_PLAN
        read += 1
        orphaned += resolution.winner is None
        if account_unchanged(
            owner_id=owner_id,
            territory_id=territory_id,
            runner_up_id=runner_up_id,
            status=status,
            assigned_at=assigned_at,
            resolution=resolution,
            members=members,
            fields=record,
        ):
            continue
        resolutions[account_id] = (record, resolution)
        if needs_pick(owner_id=owner_id, resolution=resolution, members=members, fields=record):
            pick_territories.update(t.id for t in territory_chain(resolution.winner, matcher.by_id))
    pick_members: set[int] = set()
    load_members: set[int] = set()
    if matcher is not None:
        for tid in pick_territories:
            territory = matcher.by_id[tid]
            pick_members.update(s.member_id for s in territory.slots)
            if territory.distribution == "least_loaded":
                load_members.update(s.member_id for s in territory.slots)
            if territory.fallback_member_id:
                pick_members.add(territory.fallback_member_id)
        if pick_territories and workspace.default_member_id:
            pick_members.add(workspace.default_member_id)
    return Prepared(
        matcher, resolutions, pick_territories, pick_members, load_members, read, orphaned
    )


class _NoPlan:
    """What resolution says when the workspace has no active plan: every account orphaned."""

    winner = None
    candidate_ids = ()
    trace = ({"step": "territory", "outcome": "no_match", "detail": "no active plan"},)


_NO_PLAN = _NoPlan()


def reevaluate_apply(job, payload, prepared: Prepared) -> tuple[dict, list]:
    """Inside the chunk's transaction: locks, decisions, set-based writes of the changes."""
    workspace = job.workspace
    now = timezone.now()
    matcher = prepared.matcher
    keys = len(prepared.pick_territories) + len(prepared.pick_members)
    if keys > MAX_LOCK_KEYS:
        book_locks_take(workspace_id=workspace.pk)
    elif keys:
        book_locks_take(territory_ids=prepared.pick_territories, member_ids=prepared.pick_members)
    members = {}
    rotations = {}
    if matcher is not None:
        members = _members_load(
            workspace_id=workspace.pk,
            member_ids=_plan_member_ids(matcher, workspace.default_member_id),
            with_books=prepared.load_members,
        )
        rotations = rotation_states_load(territory_ids=prepared.pick_territories)
    # Only the accounts that may change are locked (and re-read: an allocation may have
    # changed their owner since the chunk was read).
    locked = list(
        Account.objects.select_for_update()
        .filter(workspace_id=workspace.pk, pk__in=list(prepared.resolutions))
        .order_by("id")
        .values_list(
            "id",
            "crm_provider",
            "crm_id",
            "owner_id",
            "territory_id",
            "runner_up_id",
            "status",
            "assigned_at",
        )
    )
    counts = {
        "evaluated": prepared.read,
        "orphaned": prepared.orphaned,
        "changed": 0,
        "owner_changed": 0,
        "territory_changed": 0,
        "deferred": 0,
    }
    account_changes, entries, rotation_updates = [], [], {}
    for (
        account_id,
        provider,
        crm_id,
        owner_id,
        territory_id,
        runner_up_id,
        status,
        assigned_at,
    ) in locked:
        record, resolution = prepared.resolutions[account_id]
        if resolution.winner is not None and needs_pick(
            owner_id=owner_id, resolution=resolution, members=members, fields=record
        ):
            chain = {t.id for t in territory_chain(resolution.winner, matcher.by_id)}
            if not chain <= prepared.pick_territories:
                # Its owner changed since the chunk was read (an allocation): its
                # territories are not locked, so leave it to the next re-evaluation.
                counts["deferred"] += 1
                continue
        outcome = account_decide(
            owner_id=owner_id,
            resolution=resolution,
            by_id=matcher.by_id if matcher else {},
            members=members,
            rotations=rotations,
            fields=record,
            default_member_id=workspace.default_member_id,
        )
        if outcome.rotation_updates:
            rotations.update(outcome.rotation_updates)
            rotation_updates.update(outcome.rotation_updates)
        if outcome.owner_id != owner_id:
            if outcome.owner_id in members:
                members[outcome.owner_id].owned += 1
            if owner_id in members:
                members[owner_id].owned -= 1
        owner_changed = outcome.owner_id != owner_id
        territory_changed = outcome.territory_id != territory_id
        first = assigned_at is None and (outcome.owner_id or outcome.territory_id)
        record_entry = owner_changed or territory_changed or first
        if not (record_entry or outcome.status != status or outcome.runner_up_id != runner_up_id):
            continue
        counts["changed"] += 1
        counts["owner_changed"] += owner_changed
        counts["territory_changed"] += territory_changed
        account_changes.append(
            (
                account_id,
                outcome.territory_id,
                outcome.runner_up_id,
                outcome.owner_id,
                outcome.status,
                bool(record_entry),
            )
        )
        if record_entry:
            writeback = ""
            new_owner = members.get(outcome.owner_id)
            if (
                owner_changed
                and workspace.account_ownership_writeback
                and new_owner is not None
                and provider
                and new_owner.crm[0] == provider
                and new_owner.crm[1]
            ):
                writeback = new_owner.crm[1]
            entries.append(
                AccountEntry(
                    record_id=crm_id,
                    record_crm=provider,
                    status=outcome.entry_status,
                    owner_id=outcome.owner_id,
                    territory_id=outcome.territory_id,
                    fields=record,
                    decision=outcome.trace,
                    overlays=outcome.overlays,
                    writeback_owner_crm_user_id=writeback,
                )
            )
    _accounts_update(workspace.pk, account_changes, now)
    written = account_entries_write(
        workspace_id=workspace.pk, actor_label=f"job {job.pk}", entries=entries, now=now
    )
    rotation_states_save(workspace_id=workspace.pk, updates=rotation_updates, now=now)
    return {**counts, **written}, []


def _accounts_update(workspace_id, changes, now) -> None:
    """The changed accounts in one UPDATE … FROM a COPY-filled temporary table (Postgres),
    or a bulk update (SQLite, make run)."""
    if not changes:
        return
    table = Account._meta.db_table
    if connection.vendor != "postgresql":
        objs = []
        for account_id, territory_id, runner_up_id, owner_id, status, assigned in changes:
            account = Account(
                pk=account_id,
                territory_id=territory_id,
                runner_up_id=runner_up_id,
                owner_id=owner_id,
                status=status,
                updated_at=now,
            )
            objs.append(account)
            if assigned:
                Account.objects.filter(pk=account_id).update(assigned_at=now)
        Account.objects.bulk_update(
            objs, ["territory", "runner_up", "owner", "status", "updated_at"], batch_size=500
        )
        return
    with connection.cursor() as cursor:
        # Dropped at commit; dropped here too when an outer transaction (tests) is still open.
        cursor.execute("DROP TABLE IF EXISTS book_account_tmp")
        cursor.execute(
            "CREATE TEMP TABLE book_account_tmp (id bigint, territory_id bigint, "
            "runner_up_id bigint, owner_id bigint, status text, assigned boolean) ON COMMIT DROP"
        )
        with cursor.cursor.copy(
            "COPY book_account_tmp (id, territory_id, runner_up_id, owner_id, status, assigned) "
            "FROM STDIN"
        ) as copy:
            for row in changes:
                copy.write_row(row)
        # Its real size, so the joins below use the indexes instead of scanning the tables.
        cursor.execute("ANALYZE book_account_tmp")
        cursor.execute(
            f"UPDATE {table} a SET territory_id = t.territory_id, runner_up_id = t.runner_up_id, "
            "owner_id = t.owner_id, status = t.status, updated_at = %s, "
            "assigned_at = CASE WHEN t.assigned THEN %s ELSE a.assigned_at END "
            "FROM book_account_tmp t WHERE a.id = t.id AND a.workspace_id = %s",
            [now, now, workspace_id],
        )


def plan_changed_receiver(sender, *, plan_id: int, **kwargs) -> None:
    """A committed plan change (territories' `plan_changed` signal): when the plan is the
    active one and the workspace has a book, re-evaluate it (debounced)."""
    from territories.models import TerritoryPlan

    plan = TerritoryPlan.objects.select_related("workspace").filter(pk=plan_id).first()
    if plan is None or plan.status != PlanStatus.ACTIVE:
        return
    if Account.objects.filter(workspace_id=plan.workspace_id).exists():
        book_reevaluate_request(workspace=plan.workspace, actor_label="plan change")


def plan_members_load(*, workspace, matcher) -> dict[int, BookMember]:
    """The members a plan's territories can reach, as re-evaluation decides with them
    (state, absence now, `accounts` capacity): planning's simulation decides the same way."""
    return _members_load(
        workspace_id=workspace.pk,
        member_ids=_plan_member_ids(matcher, workspace.default_member_id),
    )
