"""Set-based writes of the book's history: one allocation entry (record type `account`) per
account whose owner or territory a re-evaluation changed, the earlier current entry of each
superseded, and an outbox row per owner to write back — a few statements per chunk, never a
loop of ORM saves. Called inside the chunk's transaction (book.services)."""

import json
from typing import NamedTuple

import orjson
from django.db import connection
from django.db.models.expressions import RawSQL

from crm_sync.models import WritebackOutbox, WritebackStatus
from crm_sync.services import writeback_schedule
from members.models import Member
from revorg.integrity import referenced_keys_checked
from revorg.models import Workspace
from revorg.rawsql import pg_array
from territories.models import Territory

from .engine import RotationSnapshot
from .locks import BOOK_LOCK, advisory_locks_take
from .models import Allocation, RecordType, RotationState

# Lets the triggers on the history table (book migration 0002) skip this transaction's
# inserts: it already holds the accounts' row locks and supersedes set-based itself.
BULK_SETTING = "revorg.book_bulk"


class AccountEntry(NamedTuple):
    """One history entry to write. A tuple, not a frozen dataclass: that sets each field
    through `object.__setattr__`, 2.4x slower to build, once per account a chunk changes."""

    record_id: str
    record_crm: str
    status: str  # assigned | fallback | unassigned
    owner_id: int | None
    territory_id: int | None
    fields: dict
    decision: list
    overlays: list
    writeback_owner_crm_user_id: str = ""  # '' = no write-back


def _json(value) -> str:
    """JSON text for a COPY row: orjson, several times faster than `json` on the million
    traces of a first assignment."""
    return orjson.dumps(value).decode()


def book_locks_take(*, workspace_id: int, territory_ids=(), member_ids=(), whole=False) -> None:
    """The allocation engine's advisory locks (`advisory_locks_take`: the workspace's book
    lock shared, then territories in the negative key space and members in the positive one,
    one sorted statement, transaction-scoped), so that re-evaluation and allocations share
    rotations and capacities without deadlocking. `whole` instead takes the workspace's book
    lock exclusively: for a chunk that would need thousands of keys (Postgres' lock table is
    finite); it waits for every writer holding territory keys, and they for it."""
    if connection.vendor != "postgresql":
        return
    if whole:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s::int)", [BOOK_LOCK, workspace_id])
        return
    advisory_locks_take(
        workspace_id=workspace_id, territory_ids=territory_ids, member_ids=member_ids
    )


_ENTRY_TMP_COLUMNS = (
    ("record_id", "text"),
    ("record_crm", "text"),
    ("status", "text"),
    ("owner_id", "bigint"),
    ("territory_id", "bigint"),
    ("record_fields", "jsonb"),
    ("decision", "jsonb"),
    ("overlays", "jsonb"),
    ("writeback_owner", "text"),
)


def account_entries_write(
    *, workspace_id: int, actor_label: str, entries, now, record_type: str = RecordType.ACCOUNT
) -> dict:
    """Supersedes the current entries of these accounts (or, with `record_type`, of these
    opportunities: a plan transition moving open deals) and inserts the new ones (and their
    write-back rows). Returns counts."""
    if not entries:
        return {"entries": 0, "writebacks": 0}
    writebacks = sum(1 for e in entries if e.writeback_owner_crm_user_id)
    if connection.vendor == "postgresql":
        _write_postgres(workspace_id, actor_label, entries, now, record_type)
    else:
        _write_portable(workspace_id, actor_label, entries, now, record_type)
    if writebacks:
        writeback_schedule(workspace_id=workspace_id)
    return {"entries": len(entries), "writebacks": writebacks}


def _write_postgres(workspace_id, actor_label, entries, now, record_type):
    """The current entries superseded, then the new entries COPY'd straight into the history,
    or through a temporary table when write-backs need their ids."""
    allocations = Allocation._meta.db_table
    outbox = WritebackOutbox._meta.db_table
    record_ids = [e.record_id for e in entries]
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config(%s, 'on', true)", [BULK_SETTING])
        # One probe of the record index per entry (the LATERAL subquery, kept apart from the
        # join by OFFSET 0): a history table filled since its last ANALYZE has statistics that
        # would turn a join into a scan of every entry of the workspace.
        cursor.execute(
            f"UPDATE {allocations} SET is_current = false WHERE id IN (SELECT cur.id "
            "FROM unnest(%s::text[]) AS r(record_id) CROSS JOIN LATERAL (SELECT a.id "
            f"FROM {allocations} a WHERE a.workspace_id = %s AND a.record_type = %s "
            "AND a.record_id = r.record_id AND a.is_current OFFSET 0) cur)",
            [pg_array(record_ids), workspace_id, record_type],
        )
        if not any(e.writeback_owner_crm_user_id for e in entries):
            referenced = {
                Workspace: [workspace_id],
                Member: {e.owner_id for e in entries},
                Territory: {e.territory_id for e in entries},
            }
            with referenced_keys_checked(cursor, referenced):
                _entries_copy(
                    cursor, allocations, workspace_id, actor_label, entries, now, record_type
                )
            cursor.execute("SELECT set_config(%s, 'off', true)", [BULK_SETTING])
            return
        # With write-backs (the workspace's account ownership setting): the constraints check
        # these rows themselves, the outbox's included.
        # Dropped at commit; dropped here too when an outer transaction (tests) is still open.
        cursor.execute("DROP TABLE IF EXISTS book_entry_tmp")
        cursor.execute(
            "CREATE TEMP TABLE book_entry_tmp ("
            + ", ".join(f"{name} {kind}" for name, kind in _ENTRY_TMP_COLUMNS)
            + ") ON COMMIT DROP"
        )
        names = ", ".join(name for name, _ in _ENTRY_TMP_COLUMNS)
        with cursor.cursor.copy(f"COPY book_entry_tmp ({names}) FROM STDIN") as copy:
            for e in entries:
                copy.write_row(
                    (
                        e.record_id,
                        e.record_crm,
                        e.status,
                        e.owner_id,
                        e.territory_id,
                        _json(e.fields),
                        _json(e.decision),
                        _json(e.overlays),
                        e.writeback_owner_crm_user_id,
                    )
                )
        cursor.execute(
            f"UPDATE {outbox} o SET status = %s, updated_at = %s WHERE o.workspace_id = %s "
            "AND o.record_type = %s AND o.record_id = ANY(%s) AND o.status = %s "
            "AND (o.provider, o.record_id) IN (SELECT record_crm, record_id FROM book_entry_tmp "
            "WHERE writeback_owner <> '')",
            [
                WritebackStatus.SUPERSEDED,
                now,
                workspace_id,
                record_type,
                [e.record_id for e in entries if e.writeback_owner_crm_user_id],
                WritebackStatus.PENDING,
            ],
        )
        cursor.execute(
            f"WITH ins AS (INSERT INTO {allocations} (workspace_id, status, owner_id, "
            "territory_id, record_type, record_id, record_crm, record_fields, decision, "
            "overlays, play_run_id, play_run_url, reason, actor_label, created_at, is_current, "
            "is_book) SELECT %s, status, owner_id, territory_id, %s, record_id, record_crm, "
            "record_fields, decision, overlays, '', '', '', %s, %s, true, true "
            "FROM book_entry_tmp "
            "RETURNING id, record_id, record_crm) "
            f"INSERT INTO {outbox} (workspace_id, allocation_id, provider, record_type, "
            "record_id, owner_crm_user_id, status, attempts, last_error, created_at, updated_at) "
            "SELECT %s, ins.id, t.record_crm, %s, t.record_id, t.writeback_owner, %s, 0, '', "
            "%s, %s FROM ins JOIN book_entry_tmp t ON t.record_id = ins.record_id "
            "AND t.record_crm = ins.record_crm WHERE t.writeback_owner <> ''",
            [
                workspace_id,
                record_type,
                actor_label[:200],
                now,
                workspace_id,
                record_type,
                WritebackStatus.PENDING,
                now,
                now,
            ],
        )
        cursor.execute("SELECT set_config(%s, 'off', true)", [BULK_SETTING])


# COPY's text format: these four characters are escaped, everything else is sent as is.
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_COPY_NULL = "\\N"


def _copy_text(value: str) -> str:
    return value.translate(_COPY_ESCAPES)


def _copy_json(value) -> str:
    """orjson escapes control characters inside strings, so only backslashes need doubling."""
    return _json(value).replace("\\", "\\\\")


def _entries_copy(cursor, table, workspace_id, actor_label, entries, now, record_type) -> None:
    """The entries as COPY text lines built here: the columns every entry shares are
    formatted once, and the JSON goes out as orjson wrote it (psycopg's `write_row` would
    inspect and escape every value of a million rows again)."""
    shared = "\t".join(
        _copy_text(str(value))
        for value in (workspace_id, record_type, "", "", "", actor_label[:200], now.isoformat())
    )
    with cursor.cursor.copy(
        f"COPY {table} (workspace_id, record_type, play_run_id, play_run_url, reason, "
        "actor_label, created_at, is_current, is_book, status, owner_id, territory_id, "
        "record_id, record_crm, record_fields, decision, overlays) FROM STDIN"
    ) as copy:
        head = f"{shared}\tt\tt\t"
        lines = [
            f"{head}{e.status}\t{e.owner_id or _COPY_NULL}\t{e.territory_id or _COPY_NULL}\t"
            f"{_copy_text(e.record_id)}\t{_copy_text(e.record_crm)}\t{_copy_json(e.fields)}\t"
            f"{_copy_json(e.decision)}\t{_copy_json(e.overlays)}\n"
            for e in entries
        ]
        copy.write("".join(lines))


def _write_portable(workspace_id, actor_label, entries, now, record_type):
    """SQLite (make run): the same effect with bulk ORM statements."""
    record_ids = [e.record_id for e in entries]
    Allocation.objects.filter(
        workspace_id=workspace_id,
        record_type=record_type,
        record_id__in=record_ids,
        is_current=True,
    ).update(is_current=False)
    created = Allocation.objects.bulk_create(
        Allocation(
            workspace_id=workspace_id,
            status=e.status,
            owner_id=e.owner_id,
            territory_id=e.territory_id,
            record_type=record_type,
            record_id=e.record_id,
            record_crm=e.record_crm,
            record_fields=e.fields,
            decision=e.decision,
            overlays=e.overlays,
            actor_label=actor_label[:200],
            created_at=now,
            is_book=True,
        )
        for e in entries
    )
    written = [
        (a, e) for a, e in zip(created, entries, strict=True) if e.writeback_owner_crm_user_id
    ]
    if written:
        WritebackOutbox.objects.filter(
            workspace_id=workspace_id,
            record_type=record_type,
            record_id__in=[e.record_id for _, e in written],
            status=WritebackStatus.PENDING,
        ).update(status=WritebackStatus.SUPERSEDED)
        WritebackOutbox.objects.bulk_create(
            WritebackOutbox(
                workspace_id=workspace_id,
                allocation_id=a.pk,
                provider=e.record_crm,
                record_type=record_type,
                record_id=e.record_id,
                owner_crm_user_id=e.writeback_owner_crm_user_id,
            )
            for a, e in written
        )


def rotation_states_load(*, territory_ids) -> dict[int, RotationSnapshot]:
    """The territories' rotation pointers (read under their advisory locks)."""
    ids = list(territory_ids)
    if not ids:
        return {}
    rows = RotationState.objects.all()
    if connection.vendor == "postgresql":  # one bound array, not thousands of placeholders
        rows = rows.filter(territory_id__in=RawSQL("SELECT unnest(%s::bigint[])", [ids]))
    else:
        rows = rows.filter(territory_id__in=ids)
    return {
        row["territory_id"]: RotationSnapshot(
            row["pointer_member_id"], row["current_weights"] or {}
        )
        for row in rows.values("territory_id", "pointer_member_id", "current_weights")
    }


def rotation_states_save(*, workspace_id: int, updates: dict[int, RotationSnapshot], now) -> None:
    if not updates:
        return
    ordered = sorted(updates.items())
    table = RotationState._meta.db_table
    upsert = (
        "ON CONFLICT (territory_id) DO UPDATE SET "
        "pointer_member_id = excluded.pointer_member_id, "
        "current_weights = excluded.current_weights, updated_at = excluded.updated_at"
    )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # three bound arrays, whatever the count
            cursor.execute(
                f"INSERT INTO {table} "
                "(workspace_id, territory_id, pointer_member_id, current_weights, updated_at) "
                "SELECT %s, t, p, w::jsonb, %s FROM unnest(%s::bigint[], %s::bigint[], "
                f"%s::text[]) AS u(t, p, w) {upsert}",
                [
                    workspace_id,
                    now,
                    [tid for tid, _ in ordered],
                    [snap.pointer_member_id for _, snap in ordered],
                    [json.dumps(snap.current_weights) for _, snap in ordered],
                ],
            )
            return
        weights = RotationState._meta.get_field("current_weights")
        rows, params = [], []
        for territory_id, snapshot in ordered:
            rows.append("(%s, %s, %s, %s, %s)")
            params += [
                workspace_id,
                territory_id,
                snapshot.pointer_member_id,
                weights.get_db_prep_value(snapshot.current_weights, connection),
                now,
            ]
        cursor.execute(
            f"INSERT INTO {table} "
            "(workspace_id, territory_id, pointer_member_id, current_weights, updated_at) "
            f"VALUES {', '.join(rows)} {upsert}",
            params,
        )
