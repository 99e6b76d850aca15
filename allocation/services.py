"""Persisting allocation decisions: one transaction per decision, serialised per territory."""

import hashlib
import json
import time
from datetime import UTC, timedelta
from typing import NamedTuple

from django.db import (
    DEFAULT_DB_ALIAS,
    DatabaseError,
    IntegrityError,
    connection,
    connections,
    transaction,
)
from django.db.models import Max
from django.utils import timezone

from capacities.models import Capacity
from capacities.services import capacities_load, capacity_columns, capacity_usage_for_members
from crm_sync.services import writeback_enqueue
from members.models import Member
from members.selectors import absence_end
from revorg.errors import ApplicationError, ConflictError
from revorg.rawsql import hot_cursor, placeholders
from territories import rules
from territories.matcher import TerritoryInfo
from territories.models import Territory
from territories.selectors import plan_get_active, territory_info_get, territory_resolve

from .engine import (
    Decision,
    MemberState,
    RotationSnapshot,
    allocation_decide,
    member_unavailable_reason,
)
from .models import Allocation, AllocationStatus, IdempotencyRecord, RotationState
from .selectors import allocation_current_id

IDEMPOTENCY_TTL = timedelta(hours=24)
MAX_RETRIES = 5
RETRYABLE_SQLSTATES = {"40001", "40P01"}  # serialization failure, deadlock


def request_hash(payload: dict) -> str:
    body = {k: v for k, v in payload.items() if k not in ("idempotency_key",)}
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def idempotency_lookup(*, workspace, key: str, body_hash: str) -> dict | None:
    """The stored response for a key used in the last 24 h; 409 when the body differs."""
    record = IdempotencyRecord.objects.filter(
        workspace=workspace, key=key, created_at__gte=timezone.now() - IDEMPOTENCY_TTL
    ).first()
    if record is None:
        return None
    if record.request_hash != body_hash:
        raise ConflictError("This idempotency key was used with a different request body.")
    return record.response


class _IdempotencyKeyTaken(Exception):
    """A live row holds the key: a concurrent request with it committed first."""


def _idempotency_claim(*, workspace, key: str, body_hash: str, response: dict) -> None:
    """Stores the first response to `key` in one statement that also replaces a row older
    than 24 h: an expired key starts afresh, with no unique violation, and of concurrent
    requests with it exactly one claims it (the others wait for its row, see it live and
    raise `_IdempotencyKeyTaken`, so they roll back and replay it)."""
    now = timezone.now()
    table = IdempotencyRecord._meta.db_table
    quote = connection.ops.quote_name
    response_field = IdempotencyRecord._meta.get_field("response")
    adapt = connection.ops.adapt_datetimefield_value
    with hot_cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (workspace_id, {quote('key')}, request_hash, response, "
            "created_at) VALUES (%s, %s, %s, %s, %s) "
            f"ON CONFLICT (workspace_id, {quote('key')}) DO UPDATE SET "
            "request_hash = excluded.request_hash, response = excluded.response, "
            f"created_at = excluded.created_at WHERE {table}.created_at < %s RETURNING id",
            [
                workspace.pk,
                key,
                body_hash,
                response_field.get_db_prep_save(response, connection),
                adapt(now),
                adapt(now - IDEMPOTENCY_TTL),
            ],
        )
        if cursor.fetchone() is None:
            raise _IdempotencyKeyTaken


def idempotency_purge(*, batch_size: int = 5000) -> int:
    """Deletes idempotency rows older than 24 h (they replay nothing any more), in batches
    so no statement holds many row locks. The DELETE re-checks the age: a row that a request
    renewed meanwhile stays. Returns how many rows went."""
    cutoff = timezone.now() - IDEMPOTENCY_TTL
    expired = IdempotencyRecord.objects.filter(created_at__lt=cutoff)
    deleted = 0
    while True:
        ids = list(expired.order_by().values_list("pk", flat=True)[:batch_size])
        if not ids:
            return deleted
        deleted += expired.filter(pk__in=ids).delete()[0]


def _territory_chain(*, workspace, winner, plan):
    chain, seen = [], set()
    current = winner
    while current is not None and current.id not in seen:
        chain.append(current)
        seen.add(current.id)
        nxt = current.fallback_territory_id
        current = (
            territory_info_get(workspace=workspace, territory_id=nxt, plan=plan) if nxt else None
        )
    return chain


def _lock(*, territory_ids=(), member_ids=(), record_key: int | None = None) -> None:
    """Serialise allocations per territory (strict rotation) and capacity checks per member
    (a rep may sit in several territories), with transaction-scoped advisory locks taken in
    one statement, in the same global order by every transaction (no deadlock): territories
    use the negative key space, members the positive one. No lock spans territories that do
    not share a rep. A record's lock (`record_lock_key`) comes first, before any other lock
    is held: whoever waits for a record holds nothing another writer of it waits for.
    SQLite (make run) has one writer at a time and needs none."""
    keys = sorted({-int(t) for t in territory_ids} | {int(m) for m in member_ids})
    if record_key is not None:
        keys.insert(0, record_key)
    if keys and connection.vendor == "postgresql":
        with hot_cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(k) FROM unnest(%s::bigint[]) AS k", [keys])


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
    (see `_lock`). Outside a transaction it would be released at once, hence the refusal."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("lock_record needs a transaction (transaction.atomic)")
    _lock(
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
    state, in one query (after the locks, so the pointers are the latest)."""
    if not member_ids:
        return Pool([], [], {})
    moment = connection.ops.adapt_datetimefield_value(now)
    metadata = Member._meta.get_field("metadata")
    weights = RotationState._meta.get_field("current_weights")
    rotation = "(SELECT {} FROM allocation_rotationstate WHERE territory_id = %s)"
    rotation_columns = [rotation.format(c) for _ in territory_ids for c in ROTATION_COLUMNS]
    with hot_cursor() as cursor:
        cursor.execute(
            "SELECT m.id, m.name, m.email, m.crm_provider, m.crm_user_id, m.is_active, m.role, "
            "m.timezone, m.metadata, EXISTS (SELECT 1 FROM members_absence a "
            "WHERE a.member_id = m.id AND a.starts_at <= %s AND a.ends_at > %s), "
            f"{''.join(c + ', ' for c in rotation_columns)}"
            f"{capacity_columns('c')} FROM members_member m "
            "LEFT JOIN capacities_capacity c ON c.member_id = m.id "
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
    if not rows:
        return Pool([], [], {})
    members = {
        row[0]: PoolMember(
            *row[:8], metadata.from_db_value(row[8], None, connection) or {}, bool(row[9])
        )
        for row in rows
    }
    first_capacity_column = 10 + len(rotation_columns)
    pointers = rows[0][10:first_capacity_column]
    rotations = {
        tid: RotationSnapshot(
            pointers[2 * i], weights.from_db_value(pointers[2 * i + 1], None, connection) or {}
        )
        for i, tid in enumerate(territory_ids)
    }
    capacities = capacities_load(
        [row[first_capacity_column:] for row in rows if row[first_capacity_column] is not None]
    )
    return Pool(list(members.values()), capacities, rotations)


ROTATION_COLUMNS = ("pointer_member_id", "current_weights")  # NULL both: no state yet


def _member_states(
    *, workspace, pool: Pool, record_type, now, need_last: bool
) -> dict[int, MemberState]:
    members = pool.members
    member_ids = [m.id for m in members]
    usage = capacity_usage_for_members(
        workspace=workspace,
        members=members,
        record_type=record_type,
        now=now,
        capacities=pool.capacities,
        up_to_limit=True,
    )
    # Only least_loaded reads it: skip the history scan on the round-robin hot path.
    last = {}
    if need_last:
        last = dict(
            Allocation.objects.filter(workspace=workspace, owner_id__in=member_ids, is_current=True)
            .values("owner_id")
            .annotate(last=Max("created_at"))
            .values_list("owner_id", "last")
        )
    states = {}
    for m in members:
        full, load = None, 0.0
        for u in usage.get(m.id, []):
            load = max(load, u.used / u.limit if u.limit else 1.0)
            if u.used >= u.limit and full is None:
                full = f"{u.period} capacity {u.used}/{u.limit}"
        states[m.id] = MemberState(
            id=m.id,
            name=m.name,
            is_active=m.is_active,
            absent=m.absent,
            attributes={**m.metadata, "role": m.role, "timezone": m.timezone},
            capacity_full=full,
            load=load,
            last_allocated_at=last.get(m.id),
        )
    return states


class Decided(NamedTuple):
    decision: Decision
    members: dict[int, PoolMember]  # the pool
    territories: dict[int, TerritoryInfo]  # the winner and its fallback chain


def _decide(
    *, workspace, record_type, fields, lock: bool, record_key: int | None = None, plan=None
) -> Decided:
    plan = plan or plan_get_active(workspace=workspace)
    resolution = territory_resolve(workspace=workspace, fields=fields, plan=plan)
    chain = (
        _territory_chain(workspace=workspace, winner=resolution.winner, plan=plan)
        if resolution.winner
        else []
    )
    member_ids = set()
    for t in chain:
        member_ids.update(s.member_id for s in t.slots)
        if t.fallback_member_id:
            member_ids.add(t.fallback_member_id)
    if workspace.default_member_id:
        member_ids.add(workspace.default_member_id)
    territory_ids = [t.id for t in chain]
    if lock:
        _lock(territory_ids=territory_ids, member_ids=member_ids, record_key=record_key)
    now = timezone.now()
    pool = _pool_get(
        workspace=workspace, member_ids=list(member_ids), territory_ids=territory_ids, now=now
    )
    states = _member_states(
        workspace=workspace,
        pool=pool,
        record_type=record_type,
        now=now,
        need_last=any(t.distribution == "least_loaded" for t in chain),
    )
    by_id = {t.id: t for t in chain}
    decision = allocation_decide(
        territory=resolution.winner,
        territory_get=lambda tid: by_id.get(tid)
        or territory_info_get(workspace=workspace, territory_id=tid, plan=plan),
        members=states,
        rotations=pool.rotations,
        fields=fields,
        default_member_id=workspace.default_member_id,
        evaluate=rules.evaluate,
        trace=list(resolution.trace),
    )
    return Decided(decision, {m.id: m for m in pool.members}, by_id)


def allocation_dry_run(*, workspace, record_type: str, fields: dict, plan=None) -> Decided:
    """The decision a record would get now, with nothing written (no history row, no
    rotation pointer moved, no capacity used): the allocate endpoint's `dry_run`, also
    against a draft `plan` (the territory editor's "Test a record")."""
    return _decide(
        workspace=workspace, record_type=record_type, fields=fields, lock=False, plan=plan
    )


def allocation_create(
    *,
    workspace,
    actor,
    record: dict,
    play_run: dict | None = None,
    idempotency_key: str = "",
    dry_run: bool = False,
    payload_hash: str = "",
    render=None,
):
    """Decide and persist. Returns (allocation or None, response dict, replayed: bool).
    `render(allocation, decision, dry_run)` builds the response (kept by idempotency)."""
    play_run = play_run or {}
    fields = record.get("fields") or {}
    if dry_run:
        decision = allocation_dry_run(
            workspace=workspace, record_type=record["type"], fields=fields
        ).decision
        return None, render(None, decision, True), False
    if idempotency_key:
        stored = idempotency_lookup(
            workspace=workspace, key=idempotency_key, body_hash=payload_hash
        )
        if stored is not None:
            return None, stored, True
    for attempt in range(MAX_RETRIES):
        try:
            with transaction.atomic():
                allocation, response = _create_once(
                    workspace=workspace,
                    actor=actor,
                    record=record,
                    fields=fields,
                    play_run=play_run,
                    idempotency_key=idempotency_key,
                    payload_hash=payload_hash,
                    render=render,
                )
            return allocation, response, False
        except (IntegrityError, _IdempotencyKeyTaken) as exc:
            # A concurrent request with the same key won: replay its result.
            if idempotency_key:
                stored = idempotency_lookup(
                    workspace=workspace, key=idempotency_key, body_hash=payload_hash
                )
                if stored is not None:
                    return None, stored, True
                if isinstance(exc, _IdempotencyKeyTaken) and attempt < MAX_RETRIES - 1:
                    continue  # the winner's row expired in between: claim it afresh
            raise
        except DatabaseError as exc:
            sqlstate = getattr(getattr(exc, "__cause__", None), "sqlstate", None)
            if sqlstate not in RETRYABLE_SQLSTATES or attempt == MAX_RETRIES - 1:
                raise
            time.sleep(0.005 * (attempt + 1))
    raise RuntimeError("unreachable")


def _create_once(
    *, workspace, actor, record, fields, play_run, idempotency_key, payload_hash, render
):
    record_id = record.get("id")
    decision, members, territories = _decide(
        workspace=workspace,
        record_type=record["type"],
        fields=fields,
        lock=True,
        # Same statement as the other locks: an allocate of a record id is serialised with
        # its reassignments at no extra round trip.
        record_key=record_lock_key(
            workspace_id=workspace.pk, record_type=record["type"], record_id=record_id
        )
        if record_id
        else None,
    )
    pool_owner = members.get(decision.owner_id)
    allocation = Allocation(
        workspace=workspace,
        status=decision.status,
        owner=pool_owner.as_model() if pool_owner else None,  # rendering needs no query
        territory_id=decision.territory_id,
        record_type=record["type"],
        record_id=record.get("id") or "",
        record_crm=record.get("crm") or "",
        record_fields=fields,
        decision=decision.trace,
        overlays=decision.overlays,
        play_run_id=play_run.get("id") or "",
        play_run_url=play_run.get("url") or "",
        actor_user=actor.user,
        actor_api_key=actor.api_key,
        actor_label=actor.label,
        created_at=timezone.now(),
    )
    _decision_save(allocation, decision.rotation_updates)
    territory = territories.get(decision.territory_id)
    if territory is not None:  # what rendering reads of it, without a query
        allocation.territory = Territory(pk=territory.id, name=territory.name)
    if _maybe_writeback(allocation=allocation, record=record) is None:
        # Known to have no outbox row: rendering must not query for one.
        Allocation.writeback.related.set_cached_value(allocation, None)
    response = render(allocation, decision, False)
    if idempotency_key:
        _idempotency_claim(
            workspace=workspace, key=idempotency_key, body_hash=payload_hash, response=response
        )
    return allocation, response


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


def reassign_problem(*, workspace, allocation: Allocation, member_id: int, now=None) -> str | None:
    """Why the member may not take this record now, or None: the allocation path's own
    eligibility (inactive, absent, member not found) and capacity, read the way a decision
    reads them. No territory eligibility rule: a reassignment is a person's choice. Exact
    only under the member's lock (`allocation_reassign` takes it); without it, a warning."""
    now = now or timezone.now()
    pool = _pool_get(workspace=workspace, member_ids=[member_id], territory_ids=[], now=now)
    states = _member_states(
        workspace=workspace,
        pool=pool,
        record_type=allocation.record_type,
        now=now,
        need_last=False,
    )
    problem = member_unavailable_reason(
        states.get(member_id),
        member_rule=None,
        fields=allocation.record_fields or {},
        evaluate=rules.evaluate,
    )
    if problem is not None and states.get(member_id) is not None and states[member_id].absent:
        until = absence_end(workspace=workspace, member_id=member_id, at=now)
        if until is not None:
            problem = f"{problem} until {until.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
    return problem


def allocation_reassign(
    *,
    workspace,
    actor,
    allocation: Allocation,
    owner: Member,
    reason: str,
    override: bool = False,
) -> Allocation:
    """A new history row owned by `owner`; the old entry stops counting against capacity.

    Serialised per record (its advisory lock, as allocating it takes) and per entry (its row
    lock, which is all a record without an id has): of concurrent reassignments one wins, the
    others find the entry no longer current (409 naming the current one). The new owner must
    be able to take the record (`reassign_problem`, checked under the owner's lock, so
    concurrent reassignments to one rep never exceed a capacity either), unless `override`,
    which the caller grants only to who may override; the trace records what it overrode."""
    with transaction.atomic():
        if allocation.record_id:
            lock_record(
                workspace=workspace,
                record_type=allocation.record_type,
                record_id=allocation.record_id,
            )
        entry = (
            Allocation.objects.select_for_update()
            .filter(workspace=workspace, pk=allocation.pk)
            .first()
        )
        if entry is None or not entry.is_current:
            current = allocation_current_id(allocation=entry or allocation)
            raise ConflictError(
                f"Allocation {allocation.pk} is no longer the current entry of its record"
                + (f"; the current one is {current}." if current else "."),
                extra={"current": current},
            )
        if entry.owner_id == owner.pk:
            raise ApplicationError("This member already owns the record.", field="member")
        _lock(member_ids=[owner.pk])
        problem = reassign_problem(workspace=workspace, allocation=entry, member_id=owner.pk)
        if problem is not None and not override:
            raise ApplicationError(
                f"{owner.name} cannot take this record: {problem}. "
                'Send "override": true to reassign anyway.',
                field="member",
            )
        previous = Allocation.objects.filter(pk=entry.pk)
        if entry.record_id:
            previous = Allocation.objects.filter(
                workspace=workspace, record_type=entry.record_type, record_id=entry.record_id
            )
        previous.filter(is_current=True).update(is_current=False)
        trace = []
        if problem is not None:
            trace.append(
                {
                    "step": "eligibility",
                    "member": owner.pk,
                    "outcome": "overridden",
                    "detail": f"{problem}, overridden by {actor.label}",
                }
            )
        trace.append(
            {
                "step": "reassign",
                "member": owner.pk,
                "outcome": "chosen",
                "detail": f"reassigned from {entry.owner_id}: {reason}",
            }
        )
        new = Allocation.objects.create(
            workspace=workspace,
            status=AllocationStatus.ASSIGNED,
            owner=owner,
            territory_id=entry.territory_id,
            record_type=entry.record_type,
            record_id=entry.record_id,
            record_crm=entry.record_crm,
            record_fields=entry.record_fields,
            decision=trace,
            overlays=entry.overlays,
            play_run_id=entry.play_run_id,
            play_run_url=entry.play_run_url,
            reassigned_from=entry,
            reason=reason,
            actor_user=actor.user,
            actor_api_key=actor.api_key,
            actor_label=actor.label,
        )
        _maybe_writeback(allocation=new, record={"crm": entry.record_crm, "id": entry.record_id})
    return new
