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

from ..engine import (
    member_unavailable_reason,
)
from ..models import Allocation, AllocationStatus
from ..rendering import allocation_render
from ..selectors import allocation_current_id
from .allocate import _member_states
from .persistence import _lock, _maybe_writeback, _pool_get, lock_record


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
        publish(
            workspace=workspace,
            event_type="allocation.reassigned",
            data=allocation_render(new),
            members=[m for m in (owner.pk, entry.owner_id) if m],
        )
    return new
