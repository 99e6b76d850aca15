"""A person's choice of owner: a new current entry, checked like a decision."""

from datetime import UTC

from django.db import (
    transaction,
)
from django.utils import timezone

from members.models import Member
from members.selectors import absence_end
from notifications.events import publish
from revorg.errors import ApplicationError, ConflictError
from territories import rules

from ..book_entries import rotation_states_save
from ..engine import (
    member_unavailable_reason,
)
from ..locks import advisory_locks_take
from ..models import Allocation, AllocationStatus
from ..rendering import allocation_render
from ..selectors import allocation_current_id
from .allocate import _decide, _member_states
from .persistence import _maybe_writeback, _pool_get, lock_record


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


def _current_entry_locked(*, workspace, allocation: Allocation) -> Allocation:
    """The entry, locked, after the record's lock: a ConflictError naming the current entry
    when it is no longer current. Call inside a transaction."""
    if allocation.record_id:
        lock_record(
            workspace=workspace,
            record_type=allocation.record_type,
            record_id=allocation.record_id,
        )
    entry = (
        Allocation.objects.select_for_update().filter(workspace=workspace, pk=allocation.pk).first()
    )
    if entry is None or not entry.is_current:
        current = allocation_current_id(allocation=entry or allocation)
        raise ConflictError(
            f"Allocation {allocation.pk} is no longer the current entry of its record"
            + (f"; the current one is {current}." if current else "."),
            extra={"current": current},
        )
    return entry


def _entry_replace(
    *,
    workspace,
    actor,
    entry: Allocation,
    status: str,
    owner_id: int | None,
    territory_id: int | None,
    trace: list,
    reason: str,
    writeback: bool,
) -> Allocation:
    """The record's new current entry, reassigned from `entry` (locked by the caller)."""
    previous = Allocation.objects.filter(pk=entry.pk)
    if entry.record_id:
        previous = Allocation.objects.filter(
            workspace=workspace, record_type=entry.record_type, record_id=entry.record_id
        )
    previous.filter(is_current=True).update(is_current=False)
    new = Allocation.objects.create(
        workspace=workspace,
        status=status,
        owner_id=owner_id,
        territory_id=territory_id,
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
    if writeback and owner_id is not None:
        _maybe_writeback(allocation=new, record={"crm": entry.record_crm, "id": entry.record_id})
    return new


def allocation_reassign(
    *,
    workspace,
    actor,
    allocation: Allocation,
    owner: Member,
    reason: str,
    override: bool = False,
    trace: list | None = None,
    writeback: bool = True,
) -> Allocation:
    """A new history row owned by `owner`; the old entry stops counting against capacity.

    Serialised per record (its advisory lock, as allocating it takes) and per entry (its row
    lock, which is all a record without an id has): of concurrent reassignments one wins, the
    others find the entry no longer current (409 naming the current one). The new owner must
    be able to take the record (`reassign_problem`, checked under the owner's lock, so
    concurrent reassignments to one rep never exceed a capacity either), unless `override`,
    which the caller grants only to who may override; the trace records what it overrode.
    `trace` steps (why, e.g. an escalation) come first; `writeback=False` keeps the change
    out of the CRM (the book's accounts when the workspace only reports ownership)."""
    with transaction.atomic():
        entry = _current_entry_locked(workspace=workspace, allocation=allocation)
        if entry.owner_id == owner.pk:
            raise ApplicationError("This member already owns the record.", field="member")
        advisory_locks_take(workspace_id=workspace.pk, member_ids=[owner.pk])
        problem = reassign_problem(workspace=workspace, allocation=entry, member_id=owner.pk)
        if problem is not None and not override:
            raise ApplicationError(
                f"{owner.name} cannot take this record: {problem}. "
                'Send "override": true to reassign anyway.',
                field="member",
            )
        steps = list(trace or [])
        if problem is not None:
            steps.append(
                {
                    "step": "eligibility",
                    "member": owner.pk,
                    "outcome": "overridden",
                    "detail": f"{problem}, overridden by {actor.label}",
                }
            )
        steps.append(
            {
                "step": "reassign",
                "member": owner.pk,
                "outcome": "chosen",
                "detail": f"reassigned from {entry.owner_id}: {reason}",
            }
        )
        new = _entry_replace(
            workspace=workspace,
            actor=actor,
            entry=entry,
            status=AllocationStatus.ASSIGNED,
            owner_id=owner.pk,
            territory_id=entry.territory_id,
            trace=steps,
            reason=reason,
            writeback=writeback,
        )
        new.owner = owner
        publish(
            workspace=workspace,
            event_type="allocation.reassigned",
            data=allocation_render(new),
            members=[m for m in (owner.pk, entry.owner_id) if m],
        )
    return new


def allocation_redistribute(
    *, workspace, actor, allocation: Allocation, excluded: dict[int, str], reason: str, trace
) -> Allocation:
    """The record decided afresh by the engine (territory, pool, eligibility, rotation,
    fallback) with the `excluded` members ruled out for the reason given (an SLA breach
    rules out every previous owner); the new entry is current, reassigned from this one, and
    unassigned (in the queue) when nobody else can take it. Serialised as a reassignment."""
    with transaction.atomic():
        entry = _current_entry_locked(workspace=workspace, allocation=allocation)
        decided = _decide(
            workspace=workspace,
            record_type=entry.record_type,
            fields=entry.record_fields or {},
            lock=True,
            excluded=excluded,
        )
        decision = decided.decision
        new = _entry_replace(
            workspace=workspace,
            actor=actor,
            entry=entry,
            status=decision.status,
            owner_id=decision.owner_id,
            territory_id=decision.territory_id,
            trace=[*trace, *decision.trace],
            reason=reason,
            writeback=True,
        )
        rotation_states_save(
            workspace_id=workspace.pk, updates=decision.rotation_updates, now=timezone.now()
        )
    return new


def allocation_unassign(
    *, workspace, actor, allocation: Allocation, reason: str, trace
) -> Allocation:
    """The record back in the unassigned queue: a new current entry with no owner."""
    with transaction.atomic():
        entry = _current_entry_locked(workspace=workspace, allocation=allocation)
        return _entry_replace(
            workspace=workspace,
            actor=actor,
            entry=entry,
            status=AllocationStatus.UNASSIGNED,
            owner_id=None,
            territory_id=entry.territory_id,
            trace=[*trace, {"step": "unassigned", "outcome": "queued", "detail": reason}],
            reason=reason,
            writeback=False,
        )
