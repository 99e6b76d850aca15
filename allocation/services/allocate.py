"""Decide and persist one allocation: one transaction per decision, serialised per territory."""

import time
from dataclasses import replace
from typing import NamedTuple

from django.db import (
    DatabaseError,
    IntegrityError,
    transaction,
)
from django.db.models import Max
from django.utils import timezone

from capacities.services import capacity_usage_for_members
from notifications.events import publish
from territories import rules
from territories.matching import TerritoryInfo
from territories.models import Territory
from territories.selectors import plan_get_active, territory_info_get, territory_resolve

from ..engine import (
    Decision,
    MemberState,
    allocation_decide,
)
from ..locks import advisory_locks_take
from ..models import Allocation
from ..rendering import allocation_render, overlay_names
from .idempotency import _idempotency_claim, _IdempotencyKeyTaken, idempotency_lookup
from .persistence import (
    Pool,
    PoolMember,
    _decision_save,
    _maybe_writeback,
    _pool_get,
    record_lock_key,
)

MAX_RETRIES = 5
RETRYABLE_SQLSTATES = {"40001", "40P01"}  # serialization failure, deadlock


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
    *,
    workspace,
    record_type,
    fields,
    lock: bool,
    record_key: int | None = None,
    plan=None,
    excluded: dict[int, str] | None = None,
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
        advisory_locks_take(
            workspace_id=workspace.pk,
            territory_ids=territory_ids,
            member_ids=member_ids,
            record_key=record_key,
        )
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
    if excluded:
        states = {
            member_id: replace(state, excluded=excluded[member_id])
            if member_id in excluded
            else state
            for member_id, state in states.items()
        }
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


class AllocationResult(NamedTuple):
    """What allocating gave: the new entry (None for a dry run or a replay) and the body."""

    allocation: Allocation | None
    body: dict
    replayed: bool

    @property
    def created(self) -> bool:
        return self.allocation is not None and not self.replayed


def _render(allocation: Allocation, *, dry_run: bool) -> dict:
    names = overlay_names(workspace=allocation.workspace, allocations=[allocation])
    return allocation_render(allocation, members_by_id=names, dry_run=dry_run, with_sla=False)


def _unsaved(*, workspace, record, play_run, decision) -> Allocation:
    """A dry run's entry: rendered like a real one, never saved."""
    return Allocation(
        workspace=workspace,
        status=decision.status,
        owner_id=decision.owner_id,
        territory_id=decision.territory_id,
        record_type=record["type"],
        record_id=record.get("id", ""),
        record_crm=record.get("crm", ""),
        record_fields=record.get("fields", {}),
        decision=decision.trace,
        overlays=decision.overlays,
        play_run_id=play_run.get("id", ""),
        play_run_url=play_run.get("url", ""),
    )


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
) -> AllocationResult:
    """Decide and persist; the result carries the response body an idempotency key keeps."""
    play_run = play_run or {}
    fields = record.get("fields") or {}
    if dry_run:
        decision = allocation_dry_run(
            workspace=workspace, record_type=record["type"], fields=fields
        ).decision
        unsaved = _unsaved(workspace=workspace, record=record, play_run=play_run, decision=decision)
        return AllocationResult(None, _render(unsaved, dry_run=True), replayed=False)
    if idempotency_key:
        stored = idempotency_lookup(
            workspace=workspace, key=idempotency_key, body_hash=payload_hash
        )
        if stored is not None:
            return AllocationResult(None, stored, replayed=True)
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
                )
            return AllocationResult(allocation, response, replayed=False)
        except (IntegrityError, _IdempotencyKeyTaken) as exc:
            # A concurrent request with the same key won: replay its result.
            if idempotency_key:
                stored = idempotency_lookup(
                    workspace=workspace, key=idempotency_key, body_hash=payload_hash
                )
                if stored is not None:
                    return AllocationResult(None, stored, replayed=True)
                if isinstance(exc, _IdempotencyKeyTaken) and attempt < MAX_RETRIES - 1:
                    continue  # the winner's row expired in between: claim it afresh
            raise
        except DatabaseError as exc:
            sqlstate = getattr(getattr(exc, "__cause__", None), "sqlstate", None)
            if sqlstate not in RETRYABLE_SQLSTATES or attempt == MAX_RETRIES - 1:
                raise
            time.sleep(0.005 * (attempt + 1))
    raise RuntimeError("unreachable")


def _create_once(*, workspace, actor, record, fields, play_run, idempotency_key, payload_hash):
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
    response = _render(allocation, dry_run=False)
    publish(
        workspace=workspace,
        event_type="allocation.created",
        data=response,
        members=[allocation.owner_id] if allocation.owner_id else (),
    )
    if idempotency_key:
        _idempotency_claim(
            workspace=workspace, key=idempotency_key, body_hash=payload_hash, response=response
        )
    return allocation, response
