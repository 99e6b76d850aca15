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
from django.db import connection, transaction
from django.db.models import BooleanField, Count, ExpressionWrapper, Q, TextField
from django.db.models.expressions import RawSQL
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
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
from revorg.errors import ApplicationError, ConflictError
from revorg.integrity import referenced_keys_checked
from revorg.rawsql import pg_array
from territories.models import PlanStatus, Territory, TerritorySlot
from territories.selectors import matcher_for_plan, plan_get_active

from . import csv_import
from .assignment import (
    BookMember,
    account_decide,
    account_unchanged,
    needs_pick,
    pick_reach,
    territory_chain,
)
from .models import Account, AccountStatus, Opportunity
from .selectors import account_records, book_sizes

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
        f"evaluated_key = CASE WHEN excluded.fields IS DISTINCT FROM {table}.fields "
        f"OR excluded.domain IS DISTINCT FROM {table}.domain THEN '' "
        f"ELSE {table}.evaluated_key END, "
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


def opportunities_remove_unseen(*, workspace_id, provider: str, seen_since) -> int:
    """After a full CRM sync: the provider's opportunities it did not touch are deleted in
    the CRM (or were merged away), so they leave the pipeline figures."""
    gone = Opportunity.objects.filter(
        workspace_id=workspace_id, crm_provider=provider, updated_at__lt=seen_since
    )
    _, by_model = gone.delete()
    return by_model.get(Opportunity._meta.label, 0)


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
    # A deal already closed keeps the territory it closed in: a later sync of it (after its
    # account moved under a new plan) must not rewrite history.
    closed_in = dict(
        Opportunity.objects.filter(
            workspace_id=workspace_id,
            crm_provider=provider,
            crm_id__in=[row["crm_id"] for row in rows if row["is_closed"]],
            is_closed=True,
            closed_territory__isnull=False,
        ).values_list("crm_id", "closed_territory_id")
    )
    Opportunity.objects.bulk_create(
        [
            Opportunity(
                workspace_id=workspace_id,
                crm_provider=provider,
                closed_territory_id=(
                    closed_in.get(row["crm_id"], territories.get(row["account_id"]))
                    if row["is_closed"]
                    else None
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
    """Accounts changed: re-evaluate the book (debounced); the new accounts no territory
    covers are announced in one `account.orphaned` event."""
    from notifications.events import publish

    from .selectors import accounts_new_uncovered, orphaned_event_data

    if job.started_at is not None:
        uncovered = accounts_new_uncovered(
            workspace=job.workspace, since=job.started_at, provider=""
        )
        if uncovered:
            with transaction.atomic():
                publish(
                    workspace=job.workspace,
                    event_type="account.orphaned",
                    data=orphaned_event_data(job=job, source="import", accounts=uncovered),
                )
    book_reevaluate_request(workspace=job.workspace, actor_label=f"after import job {job.pk}")


# --- re-evaluation --------------------------------------------------------------------------


def book_reevaluate_start(*, workspace, actor_label: str, plan=None, dispatch: bool = True):
    """On demand (API, UI): only the active plan governs the book; 409 otherwise.
    `dispatch=False`: the caller runs the job itself (`job_services.job_create`)."""
    if plan is not None and plan.status != PlanStatus.ACTIVE:
        raise ConflictError("only the active plan can be re-evaluated; simulate a draft instead")
    return job_services.job_create(
        workspace=workspace,
        kind=JobKind.REEVALUATE,
        handler=REEVALUATE,
        actor_label=actor_label,
        dispatch=dispatch,
    )


def book_reevaluate_request(*, workspace, actor_label: str):
    """Debounced: no second job while one is still queued for the workspace (a running one
    may have read the old plan, so a new one is queued behind it)."""
    if job_selectors.job_active_exists(workspace=workspace, handler=REEVALUATE, queued_only=True):
        return None
    return book_reevaluate_start(workspace=workspace, actor_label=actor_label)


def account_ranges(job) -> list[dict]:
    """The whole book in chunks of `BOOK_CHUNK_SIZE` accounts as id ranges (what a plan
    simulation and the map's placing walk); the last range is open-ended so accounts created
    meanwhile are not missed."""
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


def reevaluate_plan(job) -> list[dict]:
    """Chunks of the ids of the accounts that may change (`_to_decide_q`, found in one pass
    over the book with its totals): a rerun with nothing changed is that one query, and
    10,000 changed accounts are a few small chunks, not a walk over a million. The others
    provably keep territory and owner; they are counted here once (the first chunk's
    `kept`)."""
    plan = plan_get_active(workspace=job.workspace)
    matcher = matcher_for_plan(plan=plan) if plan else None
    to_decide = _to_decide_q(
        key=evaluation_key(plan), matcher=matcher, workspace_id=job.workspace_id
    )
    # The accounts to decide in place order (country, state), so that a chunk's picks fall
    # in few territories: it takes their keys rather than the whole book's lock, and chunks
    # of different regions run side by side.
    place = (KeyTextTransform("country", "fields"), KeyTextTransform("state", "fields"), "id")
    accounts = Account.objects.filter(workspace_id=job.workspace_id)
    if connection.vendor == "postgresql":
        book = _book_pass(accounts, to_decide)
        ids = book["ids"]
        if matcher is not None and len(ids) <= TERRITORY_ORDER_MAX:
            ids = _in_territory_order(ids, matcher)
    else:
        book = accounts.aggregate(
            n=Count("*"),
            placed=Count("territory"),
            unplaced=Count("id", filter=to_decide & Q(territory__isnull=True)),
        )
        ids = list(accounts.filter(to_decide).order_by(*place).values_list("id", flat=True))
    kept = {"n": book["n"] - len(ids), "orphaned": book["n"] - book["placed"] - book["unplaced"]}
    # Few changes are cut into smaller chunks, so that every worker takes a share.
    size = min(settings.BOOK_CHUNK_SIZE, max(MIN_CHUNK_SIZE, -(-len(ids) // CHUNK_LANES)))
    runs = [ids[start : start + size] for start in range(0, len(ids), size)] or [[]]
    chunks = [{"ids": run, "size": len(run)} for run in _interleaved(runs, lanes=CHUNK_LANES)]
    chunks[0].update(kept=kept["n"], kept_orphaned=kept["orphaned"])
    return chunks


def _book_pass(accounts, to_decide: Q) -> dict:
    """One pass over the book (Postgres): its size, how many have a territory, and the ids
    to decide in place order with how many of them have none. `to_decide` is computed once
    per account (the fence keeps the planner from inlining it into each aggregate). The
    accounts to decide are grouped by place in a hash aggregate and the places sorted here:
    Postgres sorting a million ids by two JSON texts took three times as long."""
    inner = (
        accounts.annotate(decide=ExpressionWrapper(to_decide, output_field=BooleanField()))
        .order_by()
        .values("id", "territory_id", "fields", "decide")
    )
    sql, params = inner.query.sql_with_params()
    with connection.cursor() as cursor:
        # A hash aggregate: Postgres cannot estimate how few places a JSON field holds and
        # would sort the million rows to group them (3 s against 1 s).
        cursor.execute("SET LOCAL enable_sort = off")
        # Only the accounts to decide are grouped by place (the others, most of a rerun's,
        # fall in one group without their fields being read).
        cursor.execute(
            "SELECT CASE WHEN decide THEN fields ->> 'country' END, "
            "CASE WHEN decide THEN fields ->> 'state' END, decide, count(*), "
            "count(territory_id), array_agg(id) FILTER (WHERE decide), "
            f"count(*) FILTER (WHERE decide AND territory_id IS NULL) FROM ({sql} OFFSET 0) b "
            "GROUP BY 1, 2, 3",
            params,
        )
        places = cursor.fetchall()
        cursor.execute("SET LOCAL enable_sort TO DEFAULT")
    # Postgres' order: NULLs last.
    places.sort(key=lambda p: (p[0] is None, p[0] or "", p[1] is None, p[1] or ""))
    ids = []
    for *_, place_ids, _ in places:
        ids += sorted(place_ids or ())
    return {
        "n": sum(p[3] for p in places),
        "placed": sum(p[4] for p in places),
        "ids": ids,
        "unplaced": sum(p[6] for p in places),
    }


def _in_territory_order(ids: list, matcher) -> list:
    """`ids` grouped by the territory tree their accounts would pick an owner in (the last
    territory of the winner's fallback chain), in place order within a group. Place order
    alone keeps chunks apart when they cover the whole book, but a few thousand accounts
    arriving in one region all fall in its handful of territories: grouped, the chunks
    queued one after another pick in different territories and run side by side instead of
    each waiting for the other's keys. The accounts are resolved twice (here and in their
    chunk), which costs less than the wait for a job this small. Postgres only: SQLite has
    one writer and no keys."""
    roots = {}
    for account_id, record in account_records(Account.objects.filter(_ids_q(ids))):
        winner = matcher.resolve(record).winner
        roots[account_id] = (
            territory_chain(winner, matcher.by_id)[-1].id if winner is not None else 0
        )
    # Stable: place order within a group. An account deleted since the pass goes with the
    # orphans (its chunk skips it).
    return sorted(ids, key=lambda account_id: roots.get(account_id, 0))


# Jobs deciding at most this many accounts have them grouped by territory
# (`_in_territory_order`); larger ones (a new plan, a first assignment) span the book, where
# place order already keeps the chunks apart and a second resolution would cost seconds.
TERRITORY_ORDER_MAX = 50_000
# The smallest chunk a handful of changes is cut into (below it, a chunk's fixed costs —
# its transaction, the team's load, a task — outweigh what a second worker saves).
MIN_CHUNK_SIZE = 500
# Chunks are queued from this many places of the book in turn (see `_interleaved`).
CHUNK_LANES = 8


def _interleaved(runs: list, *, lanes: int) -> list:
    """The runs in the order the workers should take them: one from each of `lanes` evenly
    spaced places of the (country, state)-ordered book in turn, the lanes visited in
    bit-reversed order (0, 4, 2, 6, 1, 5, 3, 7 for eight), so that any two chunks queued one
    after the other (run at once) are at least a quarter of the book apart and do not wait
    for each other's territory keys (neighbours share territories)."""
    stride = -(-len(runs) // lanes)
    bits = max(1, (lanes - 1).bit_length())
    order = sorted(range(lanes), key=lambda lane: int(f"{lane:0{bits}b}"[::-1], 2))
    return [
        runs[lane * stride + step]
        for step in range(stride)
        for lane in order
        if lane * stride + step < len(runs)
    ]


# Member states per job, per worker process: a job reads the team once, not twice per chunk
# (2,000 members with their metadata cost more than a chunk with nothing to decide).
_STATES: dict[tuple, dict] = {}


def _member_states(*, workspace_id, job) -> dict:
    """{member id: (MemberState, (crm provider, crm user id))} as the job first saw them
    (read afresh without a job): state, absence now, attributes for member rules."""
    key = (job.pk, job.created_at) if job is not None else None  # ids may come again
    states = _STATES.get(key) if key is not None else None
    if states is not None:
        return states
    now = timezone.now()
    absent = set(
        Absence.objects.filter(
            member__workspace_id=workspace_id, starts_at__lte=now, ends_at__gt=now
        ).values_list("member_id", flat=True)
    )
    states = {}
    for m in Member.objects.filter(workspace_id=workspace_id).values(
        "id", "name", "is_active", "role", "timezone", "metadata", "crm_provider", "crm_user_id"
    ):
        state = MemberState(
            id=m["id"],
            name=m["name"],
            is_active=m["is_active"],
            absent=m["id"] in absent,
            attributes={**(m["metadata"] or {}), "role": m["role"], "timezone": m["timezone"]},
        )
        states[m["id"]] = (state, (m["crm_provider"], m["crm_user_id"]))
    if key is not None:
        _STATES.clear()  # one job at a time per worker process is what is worth keeping
        _STATES[key] = states
    return states


def _book_limits(workspace_id) -> dict[int, int]:
    """The smallest `accounts` capacity of each capped member."""
    limits: dict[int, int] = {}
    for member_id, limit in Capacity.objects.filter(
        workspace_id=workspace_id, source=Source.ACCOUNTS
    ).values_list("member_id", "limit"):
        limits[member_id] = min(limit, limits.get(member_id, limit))
    return limits


def _members_load(*, workspace_id, job, with_books: set | None = None) -> dict:
    """The workspace's members as the book sees them: the job's member states, and read now
    their `accounts` capacity and, for the capped and `with_books`, the accounts they own."""
    limits = _book_limits(workspace_id)
    owned = book_sizes(workspace_id=workspace_id, member_ids=set(limits) | (with_books or set()))
    members = {}
    loaded = with_books or set()
    for member_id, (state, crm) in _member_states(workspace_id=workspace_id, job=job).items():
        member = BookMember(
            state, owned.get(member_id, 0), limits.get(member_id), member_id in loaded
        )
        member.crm = crm
        members[member_id] = member
    return members


@dataclass
class Prepared:
    matcher: object | None
    key: str  # the evaluation key of the plan the chunk was resolved under
    # account id -> (fields, Resolution, owner, territory, runner-up, status, ever assigned,
    # updated_at as text, CRM, CRM id, name) as read: the writes apply only where `updated_at` is
    # still the one read (an allocation or an import since leaves the account to the next job).
    resolutions: dict
    pick_territories: set  # the winners (and their fallback chains) that must pick an owner
    pick_members: set  # the members of those whose book a pick reads (caps, least_loaded)
    # Members whose book size a pick reads (least_loaded pools): counted under the locks.
    load_members: set
    # Accounts resolved and found unchanged: their key is brought up to date.
    unchanged: dict  # account id -> updated_at read (as text)
    read: int = 0  # accounts of the chunk
    orphaned: int = 0  # of which no territory matched
    resolved: int = 0  # of which went through the matcher (the others provably stay)


def _range_q(payload) -> Q:
    """A chunk's accounts: its ids (`reevaluate_plan`) or its id range (`account_ranges`; a
    re-evaluation chunk planned so before an upgrade)."""
    if "ids" in payload:
        return _ids_q(payload["ids"])
    q = Q(id__gte=payload["min_id"])
    return q if payload["max_id"] is None else q & Q(id__lte=payload["max_id"])


def _ids_q(ids) -> Q:
    """`id IN ids`, bound as one array on Postgres (thousands of placeholders cost more to
    bind client-side than the query costs to run) and compared with `= ANY`: the primary key
    is probed in id order. `IN (SELECT unnest(…))` hashed the ids first and probed in hash
    order, all over the table: 31–47 ms against 21–22 ms for a chunk's 5,000 accounts."""
    if connection.vendor == "postgresql":
        return Q(
            RawSQL(
                f'"{Account._meta.db_table}"."id" = ANY(%s::bigint[])',
                [pg_array(ids)],
                output_field=BooleanField(),
            )
        )
    return Q(id__in=list(ids))


def evaluation_key(plan) -> str:
    """What an account's territory was resolved under: the plan and its content version."""
    return f"{plan.pk}.{plan.version}" if plan is not None else "none"


def _inactive_or_over_cap(workspace_id) -> list[int]:
    """Members whose accounts may not stay with them: the inactive, and those who own more
    accounts than their `accounts` capacity allows (ids, so the book is not joined to the
    team)."""
    limits = _book_limits(workspace_id)
    owned = book_sizes(workspace_id=workspace_id, member_ids=set(limits))
    inactive = Member.objects.filter(workspace_id=workspace_id, is_active=False)
    return [
        *inactive.values_list("id", flat=True),
        *(mid for mid, limit in limits.items() if owned.get(mid, 0) > limit),
    ]


def _to_decide_q(*, key: str, matcher, workspace_id) -> Q:
    """The accounts of a chunk that go through the matcher and the decision: those not
    resolved under this plan version (new, edited, or the plan changed), and those whose
    owner may not stay — what SQL can tell without the rules: no owner, not assigned yet,
    not a primary of its territory (a backup, someone else), inactive, above an `accounts`
    cap, or a territory with a member rule. Every other account keeps territory and owner."""
    stale = ~Q(evaluated_key=key)
    unrecorded_owner = Q(owner__isnull=False, assigned_at__isnull=True)
    if matcher is None:
        return stale | Q(territory__isnull=False) | unrecorded_owner
    ruled = [t.id for t in matcher.plan.territories if t.member_rule is not None]
    # A row-value IN, which Postgres hashes once, rather than a correlated EXISTS, which it
    # may probe once per account inside an aggregate.
    account, slot = Account._meta.db_table, TerritorySlot._meta.db_table
    primary = RawSQL(
        f'("{account}"."territory_id", "{account}"."owner_id") IN '
        f"(SELECT territory_id, member_id FROM {slot} WHERE role = %s)",
        ["primary"],
        output_field=BooleanField(),
    )
    owner_may_move = (
        Q(owner__isnull=True)
        | ~Q(status=AccountStatus.ASSIGNED)
        | Q(assigned_at__isnull=True)
        | Q(owner_id__in=_inactive_or_over_cap(workspace_id))
        | Q(territory_id__in=ruled)
        | ~Q(primary)
    )
    return (
        stale
        | (Q(territory__isnull=False) & owner_may_move)
        | (Q(territory__isnull=True) & unrecorded_owner)
    )


def reevaluate_prepare(job, payload) -> Prepared:
    """Outside the transaction: the accounts of the chunk that may change (`_to_decide_q`)
    through the compiled matcher; those that would stay exactly as they are are dropped here
    (a rerun with nothing changed locks and writes nothing but their keys). For the others it
    notes which territories will have to pick an owner: their locks are taken first."""
    workspace = job.workspace
    plan = plan_get_active(workspace=workspace)
    key = evaluation_key(plan)
    matcher = matcher_for_plan(plan=plan) if plan else None
    in_chunk = Account.objects.filter(_range_q(payload), workspace_id=workspace.pk)
    if "ids" in payload:  # planned as accounts to decide; the others were counted then
        kept = {"n": payload.get("kept", 0), "orphaned": payload.get("kept_orphaned", 0)}
    else:
        to_decide = _to_decide_q(key=key, matcher=matcher, workspace_id=workspace.pk)
        kept = in_chunk.exclude(to_decide).aggregate(
            n=Count("id"), orphaned=Count("id", filter=Q(territory__isnull=True))
        )
        in_chunk = in_chunk.filter(to_decide)
    # Whether it was ever assigned, and on Postgres `updated_at` as text: both are only
    # compared, and Django's time-zone loader would make 10,000 datetimes a chunk in Python.
    in_chunk = in_chunk.annotate(
        assigned=ExpressionWrapper(Q(assigned_at__isnull=False), BooleanField())
    )
    seen = "updated_at"
    if connection.vendor == "postgresql":
        in_chunk, seen = in_chunk.annotate(seen=Cast("updated_at", TextField())), "seen"
    rows = account_records(
        in_chunk,
        "owner_id",
        "territory_id",
        "runner_up_id",
        "status",
        "assigned",
        seen,
        "crm_provider",
        "crm_id",
        "name",
    )
    members = {}
    if matcher is not None and rows:
        members = _members_load(workspace_id=workspace.pk, job=job)
    resolutions = {}
    unchanged = {}
    pick_territories: set[int] = set()
    reach: dict = {}  # `pick_reach` per winner
    read, orphaned = kept["n"], kept["orphaned"]
    for account_id, record, *read_row in rows:
        owner_id, territory_id, runner_up_id, status, assigned, seen, *_ = read_row
        resolution = matcher.resolve(record) if matcher else _NO_PLAN
        read += 1
        orphaned += resolution.winner is None
        if account_unchanged(
            owner_id=owner_id,
            territory_id=territory_id,
            runner_up_id=runner_up_id,
            status=status,
            assigned=assigned,
            resolution=resolution,
            members=members,
            fields=record,
        ):
            unchanged[account_id] = seen
            continue
        resolutions[account_id] = (record, resolution, *read_row)
        if needs_pick(owner_id=owner_id, resolution=resolution, members=members, fields=record):
            pick_territories.update(
                pick_reach(resolution.winner, matcher.by_id, workspace.default_member_id, reach)[0]
            )
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
        # A pick reads a member's book only for a cap on their accounts or a least_loaded
        # pool: only those members' keys are taken (territory keys serialise the rotations).
        pick_members = {
            m
            for m in pick_members
            if m in load_members or (m in members and members[m].limit is not None)
        }
    return Prepared(
        matcher,
        key,
        resolutions,
        pick_territories,
        pick_members,
        load_members,
        unchanged,
        read,
        orphaned,
        len(unchanged) + len(resolutions),
    )


class _NoPlan:
    """What resolution says when the workspace has no active plan: every account orphaned."""

    winner = None
    candidate_ids = ()
    trace = ({"step": "territory", "outcome": "no_match", "detail": "no active plan"},)


_NO_PLAN = _NoPlan()


def reevaluate_apply(
    job, payload, prepared: Prepared, *, moved: dict | None = None
) -> tuple[dict, list]:
    """Inside the chunk's transaction: locks, decisions, set-based writes of the changes.
    The accounts are not read again: the decisions are made on the rows `reevaluate_prepare`
    read, and written only where the row is still that one (`_accounts_update`); one an
    allocation or an import changed meanwhile is left to the next re-evaluation, its key
    stale. `moved` (a plan activation's transition) receives the accounts whose owner changed:
    id → (owner before, owner now, territory now, name or CRM id)."""
    workspace = job.workspace
    now = timezone.now()
    matcher = prepared.matcher
    counts = {
        "evaluated": prepared.read,
        "resolved": prepared.resolved,
        "orphaned": prepared.orphaned,
        "changed": 0,
        "owner_changed": 0,
        "territory_changed": 0,
        "deferred": 0,
    }
    if not prepared.resolutions:  # nothing may change: no lock, no read, keys brought up
        _accounts_update(workspace.pk, prepared.key, [], prepared.unchanged, now)
        return {**counts, "entries": 0, "writebacks": 0}, []
    keys = len(prepared.pick_territories) + len(prepared.pick_members)
    if keys:
        book_locks_take(
            workspace_id=workspace.pk,
            territory_ids=prepared.pick_territories,
            member_ids=prepared.pick_members,
            whole=keys > MAX_LOCK_KEYS,
        )
    members = {}
    rotations = {}
    if matcher is not None:
        members = _members_load(
            workspace_id=workspace.pk, job=job, with_books=prepared.load_members
        )
        rotations = rotation_states_load(territory_ids=prepared.pick_territories)
    account_changes, decided, rotation_updates = [], [], {}
    default_member_id, reach = workspace.default_member_id, {}
    evaluated = dict(prepared.unchanged)  # account id -> updated_at read: key brought up to date
    for account_id in sorted(prepared.resolutions):  # id order: rotations turn as they did
        (
            record,
            resolution,
            owner_id,
            territory_id,
            runner_up_id,
            status,
            assigned,
            seen,
            provider,
            crm_id,
            name,
        ) = prepared.resolutions[account_id]
        if resolution.winner is not None and needs_pick(
            owner_id=owner_id, resolution=resolution, members=members, fields=record
        ):
            chain = pick_reach(resolution.winner, matcher.by_id, default_member_id, reach)[0]
            if not chain <= prepared.pick_territories:
                # Its owner may no longer stay (a member went inactive since the chunk was
                # read): its territories are not locked, so leave it to the next job.
                counts["deferred"] += 1
                continue
        evaluated[account_id] = seen
        outcome = account_decide(
            owner_id=owner_id,
            resolution=resolution,
            by_id=matcher.by_id if matcher else {},
            members=members,
            rotations=rotations,
            fields=record,
            default_member_id=default_member_id,
            reach=reach,
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
        first = not assigned and (outcome.owner_id or outcome.territory_id)
        record_entry = owner_changed or territory_changed or first
        if not (record_entry or outcome.status != status or outcome.runner_up_id != runner_up_id):
            continue
        account_changes.append(
            (
                account_id,
                outcome.territory_id,
                outcome.runner_up_id,
                outcome.owner_id,
                outcome.status,
                bool(record_entry),
                territory_id,
            )
        )
        entry = None
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
            entry = AccountEntry(
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
        decided.append((account_id, owner_id, outcome, territory_changed, name or crm_id, entry))
    applied = _accounts_update(workspace.pk, prepared.key, account_changes, evaluated, now)
    entries = []
    for account_id, owner_before, outcome, territory_changed, label, entry in decided:
        if account_id not in applied:  # changed since it was read
            counts["deferred"] += 1
            continue
        owner_changed = outcome.owner_id != owner_before
        counts["changed"] += 1
        counts["owner_changed"] += owner_changed
        counts["territory_changed"] += territory_changed
        if owner_changed and moved is not None:
            moved[account_id] = (owner_before, outcome.owner_id, outcome.territory_id, label)
        if entry is not None:
            entries.append(entry)
    written = account_entries_write(
        workspace_id=workspace.pk, actor_label=f"job {job.pk}", entries=entries, now=now
    )
    rotation_states_save(workspace_id=workspace.pk, updates=rotation_updates, now=now)
    return {**counts, **written}, []


def _closed_territory(territory_id, before):
    """The territory the closed deals of a changed account that do not know where they
    closed are credited to: its territory of before when it had one (a later plan must not
    rewrite history, and analytics credit it), else its first one (None: none yet)."""
    return before if before is not None else territory_id


def _closed_deal_territories(changes) -> list[tuple[int, int]]:
    """(account id, `_closed_territory`) of the changed accounts that have one."""
    return [
        (account_id, _closed_territory(territory_id, before))
        for account_id, territory_id, _, _, _, _, before in changes
        if before is not None or territory_id is not None
    ]


def _accounts_update(workspace_id, key, changes, evaluated: dict, now) -> set:
    """The decisions of a chunk in one UPDATE … FROM arrays of its rows (Postgres), or row by
    row (SQLite, make run): the changed accounts (`changes`: id, territory, runner-up, owner,
    status, assigned now, territory before), and the evaluation key of every account resolved
    under `key`. Each row is written only if it is still the one read (`evaluated`: id → its
    `updated_at` then; an allocation or an import moved that). Returns the ids of the changed
    accounts written."""
    if not changes and not evaluated:
        return set()
    if connection.vendor != "postgresql":
        return _accounts_update_sqlite(key, changes, evaluated, now)
    rows = [
        (account_id, evaluated[account_id], "t", territory_id, runner_up_id, owner_id, status,
         "t" if assigned else "f")
        for account_id, territory_id, runner_up_id, owner_id, status, assigned, _ in changes
    ]  # fmt: skip
    changed = {row[0] for row in rows}
    rows += [
        (account_id, seen, "f", None, None, None, None, "f")
        for account_id, seen in evaluated.items()
        if account_id not in changed
    ]
    referenced = {
        Member: {owner_id for _, _, _, owner_id, _, _, _ in changes},
        Territory: {
            pk
            for _, territory_id, runner_up_id, _, _, _, before in changes
            for pk in (territory_id, runner_up_id, before)
        },
    }
    with connection.cursor() as cursor, referenced_keys_checked(cursor, referenced):
        return _accounts_update_statements(
            cursor,
            workspace_id,
            key,
            list(zip(*rows, strict=True)),
            _closed_deal_territories(changes),
            now,
        )


def _accounts_update_statements(cursor, workspace_id, key, columns, closed, now) -> set:
    """`_accounts_update`'s statements (`closed`: `_closed_deal_territories`). The rows go as
    one array literal per column (`pg_array`), which the planner sizes exactly: no temporary
    table to create, COPY into and analyze per chunk (24 chunks of a first assignment: 5.5 s
    of statements, 6.2 s with the table)."""
    table = Account._meta.db_table
    cursor.execute(
        f"UPDATE {table} a SET "
        "territory_id = CASE WHEN t.changed THEN t.territory_id ELSE a.territory_id END, "
        "runner_up_id = CASE WHEN t.changed THEN t.runner_up_id ELSE a.runner_up_id END, "
        "owner_id = CASE WHEN t.changed THEN t.owner_id ELSE a.owner_id END, "
        "status = CASE WHEN t.changed THEN t.status ELSE a.status END, "
        "assigned_at = CASE WHEN t.assigned THEN %s ELSE a.assigned_at END, "
        "evaluated_key = %s, "
        "updated_at = CASE WHEN t.changed THEN %s ELSE a.updated_at END "
        "FROM unnest(%s::bigint[], %s::timestamptz[], %s::boolean[], %s::bigint[], "
        "%s::bigint[], %s::bigint[], %s::text[], %s::boolean[]) "
        "AS t(id, seen, changed, territory_id, runner_up_id, owner_id, status, assigned) "
        "WHERE a.id = t.id AND a.workspace_id = %s "
        "AND a.updated_at = t.seen AND (t.changed OR a.evaluated_key <> %s) "
        "RETURNING CASE WHEN t.changed THEN a.id END",
        [now, key, now, *map(pg_array, columns), workspace_id, key],
    )
    written = {account_id for (account_id,) in cursor.fetchall() if account_id is not None}
    # Closed deals that do not know where they closed, of the accounts written (one changed
    # since it was read keeps its deals too). One probe of their partial index per account
    # (the LATERAL subquery, kept apart by OFFSET 0): as a join, the planner reads that whole
    # index once per chunk instead, 60,000 deals at the start of a first assignment.
    placing = [(pk, territory_id) for pk, territory_id in closed if pk in written]
    if placing:
        opportunities = Opportunity._meta.db_table
        cursor.execute(
            f"UPDATE {opportunities} o SET closed_territory_id = d.territory_id "
            "FROM (SELECT u.id, t.territory_id FROM unnest(%s::bigint[], %s::bigint[]) "
            "AS t(id, territory_id) CROSS JOIN LATERAL "
            f"(SELECT x.id FROM {opportunities} x WHERE x.account_id = t.id AND x.is_closed "
            "AND x.closed_territory_id IS NULL OFFSET 0) u) d WHERE o.id = d.id",
            [pg_array(pk for pk, _ in placing), pg_array(t for _, t in placing)],
        )
    return written


def _accounts_update_sqlite(key, changes, evaluated, now) -> set:
    """`make run`: one writer at a time, a few hundred accounts. `updated_at` is compared in
    Python: SQLite keeps the text each writer sent, with or without an offset."""
    written = set()
    current = {}
    for start in range(0, len(changes), 500):
        ids = [row[0] for row in changes[start : start + 500]]
        current.update(Account.objects.filter(pk__in=ids).values_list("id", "updated_at"))
    for account_id, territory_id, runner_up_id, owner_id, status, assigned, _ in changes:
        if current.get(account_id) != evaluated[account_id]:
            continue  # changed since it was read
        assigned_at = {"assigned_at": now} if assigned else {}
        Account.objects.filter(pk=account_id).update(
            territory_id=territory_id,
            runner_up_id=runner_up_id,
            owner_id=owner_id,
            status=status,
            evaluated_key=key,
            updated_at=now,
            **assigned_at,
        )
        written.add(account_id)
    for account_id, territory_id in _closed_deal_territories(changes):
        if account_id in written:
            Opportunity.objects.filter(
                account_id=account_id, is_closed=True, closed_territory__isnull=True
            ).update(closed_territory_id=territory_id)
    ids = [account_id for account_id in evaluated if account_id not in written]
    for start in range(0, len(ids), 500):
        Account.objects.filter(pk__in=ids[start : start + 500]).update(evaluated_key=key)
    return written


def plan_changed_receiver(sender, *, plan_id: int, **kwargs) -> None:
    """A committed plan change (territories' `plan_changed` signal): when the plan is the
    active one and the workspace has a book, re-evaluate it (debounced) — unless the sender
    queued the re-evaluation itself (an activation job re-evaluates as it transitions)."""
    from territories.models import TerritoryPlan

    if kwargs.get("reevaluation_queued"):
        return

    plan = TerritoryPlan.objects.select_related("workspace").filter(pk=plan_id).first()
    if plan is None or plan.status != PlanStatus.ACTIVE:
        return
    if Account.objects.filter(workspace_id=plan.workspace_id).exists():
        book_reevaluate_request(workspace=plan.workspace, actor_label="plan change")


# --- account overlays -----------------------------------------------------------------------


def account_overlays_add(*, workspace_id, pairs, until, reason: str) -> int:
    """Overlays (account id, member id) until `until`: one row per pair, a later `until`
    kept when the pair is already overlaid. Returns how many pairs were written."""
    from .models import AccountOverlay

    pairs = sorted(set(pairs))
    if not pairs:
        return 0
    if connection.vendor == "postgresql":
        # One statement for a chunk's thousands of moved accounts (an activation's transition).
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {AccountOverlay._meta.db_table} AS o (workspace_id, account_id, "
                "member_id, until, reason, created_at) SELECT %s, p.account_id, p.member_id, "
                "%s, %s, %s FROM unnest(%s::bigint[], %s::bigint[]) AS p(account_id, member_id) "
                "ON CONFLICT (account_id, member_id) DO UPDATE SET until = excluded.until "
                "WHERE o.until < excluded.until",
                [
                    workspace_id,
                    until,
                    reason[:200],
                    timezone.now(),
                    pg_array(account_id for account_id, _ in pairs),
                    pg_array(member_id for _, member_id in pairs),
                ],
            )
        return len(pairs)
    rows = [
        AccountOverlay(
            workspace_id=workspace_id,
            account_id=account_id,
            member_id=member_id,
            until=until,
            reason=reason[:200],
        )
        for account_id, member_id in pairs
    ]
    existing = {
        (a, m): u
        for a, m, u in AccountOverlay.objects.filter(
            account_id__in={a for a, _ in pairs}
        ).values_list("account_id", "member_id", "until")
    }
    fresh = [r for r in rows if (r.account_id, r.member_id) not in existing]
    AccountOverlay.objects.bulk_create(fresh, batch_size=5000, ignore_conflicts=True)
    longer = [(a, m) for (a, m), u in existing.items() if (a, m) in set(pairs) and u < until]
    for account_id, member_id in longer:
        AccountOverlay.objects.filter(account_id=account_id, member_id=member_id).update(
            until=until
        )
    return len(pairs)


def account_overlays_expire(*, now=None) -> int:
    """Periodic: overlays whose time is up drop off (readers already ignore them)."""
    from .models import AccountOverlay

    deleted, _ = AccountOverlay.objects.filter(until__lte=now or timezone.now()).delete()
    return deleted


# --- a person's owner change of one account -------------------------------------------------


def account_owner_change(
    *,
    workspace,
    actor,
    account: Account,
    owner: Member,
    reason: str,
    open_deals: str = "follow_rep",
    override: bool = False,
) -> dict:
    """Gives one account a new owner through the allocation reassignment path (record lock,
    the new owner's capacity and presence unless `override`, a history entry, the CRM
    write-back when the workspace writes ownership back). `open_deals`: `follow_rep` leaves
    the account's open deals with their owners, `follow_territory` moves them with the
    account. Returns {"allocation": the new entry, "deals_moved": n}."""
    from allocation.models import Allocation, AllocationStatus, RecordType
    from allocation.services import allocation_reassign
    from revorg.services import audit_record

    with transaction.atomic():
        locked = Account.objects.select_for_update().get(workspace=workspace, pk=account.pk)
        before = {"owner": locked.owner_id}
        current = (
            Allocation.objects.filter(
                workspace=workspace,
                record_type=RecordType.ACCOUNT,
                record_id=locked.crm_id,
                is_current=True,
            )
            .order_by("-id")
            .first()
        )
        if current is None:
            # Never evaluated: its first history entry is this choice.
            if locked.owner_id == owner.pk:
                raise ApplicationError("This member already owns the account.", field="member")
            account_entries_write(
                workspace_id=workspace.pk,
                actor_label=actor.label,
                entries=[
                    AccountEntry(
                        record_id=locked.crm_id,
                        record_crm=locked.crm_provider,
                        status=AllocationStatus.ASSIGNED,
                        owner_id=owner.pk,
                        territory_id=locked.territory_id,
                        fields=locked.fields,
                        decision=[
                            {
                                "step": "reassign",
                                "member": owner.pk,
                                "outcome": "chosen",
                                "detail": f"reassigned from {locked.owner_id}: {reason}",
                            }
                        ],
                        overlays=[],
                    )
                ],
                now=timezone.now(),
            )
            entry = (
                Allocation.objects.filter(
                    workspace=workspace,
                    record_type=RecordType.ACCOUNT,
                    record_id=locked.crm_id,
                    is_current=True,
                )
                .order_by("-id")
                .first()
            )
        else:
            entry = allocation_reassign(
                workspace=workspace,
                actor=actor,
                allocation=current,
                owner=owner,
                reason=reason,
                override=override,
                writeback=workspace.account_ownership_writeback,
            )
        # The history trigger mirrors the owner on Postgres; SQLite (make run) has none.
        Account.objects.filter(pk=locked.pk).update(
            owner=owner, assigned_at=entry.created_at, updated_at=timezone.now()
        )
        deals_moved = 0
        if open_deals == "follow_territory":
            deals_moved = Opportunity.objects.filter(
                workspace=workspace, account=locked, is_closed=False
            ).update(owner=owner)
        locked.owner_id = owner.pk
        audit_record(
            workspace=workspace,
            actor=actor,
            action="reassign",
            obj=locked,
            before=before,
            after={"owner": owner.pk, "open_deals": open_deals, "deals_moved": deals_moved},
        )
    return {"allocation": entry, "deals_moved": deals_moved}


def plan_members_load(*, workspace, matcher) -> dict[int, BookMember]:
    """The workspace's members as re-evaluation decides with them (state, absence now,
    `accounts` capacity): planning's simulation decides the same way (it keeps its own copy
    per job, and counts every member's book: `track_load`; `matcher` names the plan it is
    for)."""
    members = _members_load(workspace_id=workspace.pk, job=None)
    for member in members.values():
        member.track_load = True
    return members
