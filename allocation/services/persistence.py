"""The allocation path's SQL: locks, the pool read and the decision write (hot path)."""

import hashlib
from operator import itemgetter
from typing import NamedTuple

from django.db import (
    DEFAULT_DB_ALIAS,
    connection,
    connections,
    transaction,
)

from capacities.models import Capacity
from capacities.services import CAPACITY_FIELDS, capacities_load
from crm_sync.services import writeback_enqueue
from members.models import Absence, Member
from revorg.rawsql import hot_cursor, placeholders

from ..engine import (
    RotationSnapshot,
)
from ..locks import advisory_locks_take
from ..models import Allocation, RotationState

RECORD_LOCK_SPACE = 1 << 62  # record keys in [2**62, 2**63): above any member id


def record_lock_key(*, workspace_id: int, record_type: str, record_id: str) -> int:
    """The advisory-lock key of one CRM record: everything that changes which entry of a
    record is current (allocate, reassign) holds it, so a record has one current entry. The
    record is what `_decision_save` makes current: workspace, type and id (not the CRM: the
    entries of one id are one history whichever CRM named it). A 62-bit hash: two records
    that collide only wait for each other."""
    digest = hashlib.blake2b(
        f"{workspace_id}:{record_type}:{record_id}".encode(), digest_size=8
    ).digest()
    return RECORD_LOCK_SPACE | (int.from_bytes(digest, "big") & (RECORD_LOCK_SPACE - 1))


def lock_record(*, workspace, record_type: str, record_id: str) -> None:
    """Holds the record's lock until the transaction ends; take it before any other lock
    (see `advisory_locks_take`). Outside a transaction it would be released at once, hence
    the refusal."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("lock_record needs a transaction (transaction.atomic)")
    advisory_locks_take(
        record_key=record_lock_key(
            workspace_id=workspace.pk, record_type=record_type, record_id=record_id
        )
    )


class PoolMember(NamedTuple):
    """What deciding and rendering read of a member, without a model instance."""

    id: int
    name: str
    email: str
    crm_provider: str
    crm_user_id: str
    is_active: bool
    role: str
    timezone: str
    metadata: dict
    absent: bool

    @property
    def pk(self) -> int:
        return self.id

    def as_model(self) -> Member:
        return Member(
            id=self.id,
            name=self.name,
            email=self.email,
            crm_provider=self.crm_provider,
            crm_user_id=self.crm_user_id,
        )


class Pool(NamedTuple):
    members: list[PoolMember]
    capacities: list[Capacity]
    rotations: dict[int, RotationSnapshot]  # territory id -> its rotation pointer


def _pool_get(*, workspace, member_ids, territory_ids, now) -> Pool:
    """The members with their absence flag and capacities, and the territories' rotation
    state, in one query (after the locks, so the pointers are the latest). Rows are read by
    column name: every column is aliased after the model field it holds."""
    if not member_ids:
        return Pool([], [], {})
    moment = connection.ops.adapt_datetimefield_value(now)
    metadata = Member._meta.get_field("metadata")
    weights = RotationState._meta.get_field("current_weights")
    quote = connection.ops.quote_name
    rotation = f"(SELECT {{}} FROM {RotationState._meta.db_table} WHERE territory_id = %s)"
    rotation_names = [
        f"rotation_{i}_{c}" for i in range(len(territory_ids)) for c in ROTATION_COLUMNS
    ]
    rotation_columns = [
        f"{rotation.format(quote(c))} AS {name}"
        for name, c in zip(rotation_names, ROTATION_COLUMNS * len(territory_ids), strict=True)
    ]
    with hot_cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(POOL_MEMBER_COLUMNS)}, EXISTS (SELECT 1 FROM "
            f"{Absence._meta.db_table} a WHERE a.member_id = m.id AND a.starts_at <= %s "
            "AND a.ends_at > %s) AS absent, "
            f"{''.join(c + ', ' for c in rotation_columns)}"
            f"{', '.join(POOL_CAPACITY_COLUMNS)} FROM {Member._meta.db_table} m "
            f"LEFT JOIN {Capacity._meta.db_table} c ON c.member_id = m.id "
            f"WHERE m.workspace_id = %s AND m.id IN ({placeholders(member_ids)}) "
            "ORDER BY m.id, c.id",
            [
                moment,
                moment,
                *(tid for tid in territory_ids for _ in ROTATION_COLUMNS),
                workspace.pk,
                *member_ids,
            ],
        )
        rows = cursor.fetchall()
    # The select list's aliases, in order (reading cursor.description instead built a column
    # object per column of every allocation).
    names = [
        *POOL_MEMBER_FIELDS,
        "metadata",
        "absent",
        *rotation_names,
        *(f"capacity_{name}" for name in CAPACITY_FIELDS),
    ]
    index = {name: position for position, name in enumerate(names)}
    if not rows:
        return Pool([], [], {})
    member_of = itemgetter(*(index[name] for name in POOL_MEMBER_FIELDS))
    metadata_at, absent_at = index["metadata"], index["absent"]
    members = {}
    for row in rows:
        values = member_of(row)
        if values[0] not in members:
            members[values[0]] = PoolMember(
                *values,
                metadata=metadata.from_db_value(row[metadata_at], None, connection) or {},
                absent=bool(row[absent_at]),
            )
    first = rows[0]
    rotations = {
        tid: RotationSnapshot(
            first[index[f"rotation_{i}_pointer_member_id"]],
            weights.from_db_value(first[index[f"rotation_{i}_current_weights"]], None, connection)
            or {},
        )
        for i, tid in enumerate(territory_ids)
    }
    capacity_of = itemgetter(*(index[f"capacity_{name}"] for name in CAPACITY_FIELDS))
    capacity_id_at = index["capacity_id"]
    capacities = capacities_load(
        [capacity_of(row) for row in rows if row[capacity_id_at] is not None]
    )
    return Pool(list(members.values()), capacities, rotations)


# The member columns the pool reads (`metadata` and `absent` are converted apart), each
# aliased after its PoolMember field; capacities' as `capacity_<attname>`.
POOL_MEMBER_FIELDS = tuple(f for f in PoolMember._fields if f not in ("metadata", "absent"))
POOL_MEMBER_COLUMNS = [
    f"m.{connection.ops.quote_name(Member._meta.get_field(name).column)} "
    f"AS {connection.ops.quote_name(name)}"
    for name in (*POOL_MEMBER_FIELDS, "metadata")
]
POOL_CAPACITY_COLUMNS = [
    f"c.{connection.ops.quote_name(Capacity._meta.get_field(name).column)} AS capacity_{name}"
    for name in CAPACITY_FIELDS
]


ROTATION_COLUMNS = ("pointer_member_id", "current_weights")  # NULL both: no state yet


ALLOCATION_COLUMNS = [
    "workspace_id",
    "status",
    "owner_id",
    "territory_id",
    "record_type",
    "record_id",
    "record_crm",
    "record_fields",
    "decision",
    "overlays",
    "play_run_id",
    "play_run_url",
    "reason",
    "actor_user_id",
    "actor_api_key_id",
    "actor_label",
    "created_at",
    "is_current",
]


# JSON and datetimes need the backend's adaptation; the other columns go as they are.
_ALLOCATION_COLUMNS_TO_ADAPT = [
    (name, field if field.get_internal_type() in ("JSONField", "DateTimeField") else None)
    for name, field in ((name, Allocation._meta.get_field(name)) for name in ALLOCATION_COLUMNS)
]


def _decision_save(allocation: Allocation, rotation_updates: dict[int, RotationSnapshot]):
    """The record's earlier entry stops counting against capacity, the history row, the
    territories' rotation state (created on first use): on Postgres one statement (the
    data-modifying CTEs see the same snapshot, so the earlier entry is never the new row),
    on SQLite the same three statements one by one."""
    db = connections[DEFAULT_DB_ALIAS]
    values = [
        field.get_db_prep_save(getattr(allocation, name), db)
        if field
        else getattr(allocation, name)
        for name, field in _ALLOCATION_COLUMNS_TO_ADAPT
    ]
    statements = []
    if allocation.record_id:
        statements.append(
            (
                "UPDATE allocation_allocation SET is_current = %s WHERE workspace_id = %s "
                "AND record_type = %s AND record_id = %s AND is_current",
                [False, allocation.workspace_id, allocation.record_type, allocation.record_id],
            )
        )
    if rotation_updates:
        weights = RotationState._meta.get_field("current_weights")
        moment = db.ops.adapt_datetimefield_value(allocation.created_at)
        rows, params = [], []
        for territory_id, snapshot in sorted(rotation_updates.items()):
            rows.append("(%s, %s, %s, %s, %s)")
            params += [
                allocation.workspace_id,
                territory_id,
                snapshot.pointer_member_id,
                weights.get_db_prep_value(snapshot.current_weights, db),
                moment,
            ]
        statements.append(
            (
                "INSERT INTO allocation_rotationstate "
                "(workspace_id, territory_id, pointer_member_id, current_weights, updated_at) "
                f"VALUES {', '.join(rows)} ON CONFLICT (territory_id) DO UPDATE SET "
                "pointer_member_id = excluded.pointer_member_id, "
                "current_weights = excluded.current_weights, updated_at = excluded.updated_at",
                params,
            )
        )
    insert = (
        f"INSERT INTO allocation_allocation ({', '.join(ALLOCATION_COLUMNS)}) "
        f"VALUES ({placeholders(ALLOCATION_COLUMNS)}) RETURNING id"
    )
    with hot_cursor() as cursor:
        if db.vendor == "postgresql":
            ctes = ", ".join(f"w{i} AS ({sql})" for i, (sql, _) in enumerate(statements))
            params = [p for _, statement_params in statements for p in statement_params]
            cursor.execute(f"WITH {ctes} {insert}" if ctes else insert, params + values)
        else:
            for sql, params in statements:
                cursor.execute(sql, params)
            cursor.execute(insert, values)
        allocation.pk = cursor.fetchone()[0]
    allocation._state.adding = False


def _maybe_writeback(*, allocation, record):
    owner = allocation.owner
    crm, record_id = record.get("crm"), record.get("id")
    if owner is None or not crm or not record_id:
        return None
    if not (owner.crm_user_id and owner.crm_provider == crm):
        return None
    return writeback_enqueue(
        allocation=allocation,
        provider=crm,
        record_type=allocation.record_type,
        record_id=record_id,
        owner_crm_user_id=owner.crm_user_id,
    )
