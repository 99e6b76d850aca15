"""Reassignment requests: create (with impact and the approvals the workspace's policy
needs), decide, cancel, and execute at the effective date through the one reassignment path
(`allocation.services.allocation_reassign`; accounts through `book.services`)."""

import logging
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone

from allocation.models import Allocation
from allocation.services import allocation_reassign
from book.models import Account, Opportunity
from book.services import account_owner_change
from members.models import Member
from notifications.events import publish
from revorg.errors import ApplicationError, ConflictError
from revorg.models import ROLE_RANK, ReassignmentApproval, Role
from revorg.services import SystemActor, audit_record
from territories.models import Territory

from .models import (
    Decision,
    ItemKind,
    ItemStatus,
    ReassignmentItem,
    ReassignmentRequest,
    RequestStatus,
)
from .models import (
    ReassignmentApproval as Approval,
)

logger = logging.getLogger(__name__)
MAX_ITEMS = 10_000
NO_MANAGER = "-"


class ForbiddenError(ApplicationError):
    status_code = 403
    code = "permission_denied"


def _subtree_ids(*, workspace, territory: Territory) -> set[int]:
    """The territory and every territory below it in its plan."""
    children: dict[int, list[int]] = {}
    for pk, parent in Territory.objects.filter(
        workspace=workspace, plan_id=territory.plan_id
    ).values_list("pk", "parent_id"):
        children.setdefault(parent, []).append(pk)
    found, stack = set(), [territory.pk]
    while stack:
        pk = stack.pop()
        if pk not in found:
            found.add(pk)
            stack.extend(children.get(pk, ()))
    return found


def _required_approvals(*, policy: str, to_member: Member, from_member_ids) -> list[str]:
    """Whose approval the request needs: slot keys `incoming:<manager id>` and
    `outgoing:<manager id>` (`-` when the member has no manager: only an admin settles it)."""
    if policy == ReassignmentApproval.NONE:
        return []
    required = [f"incoming:{to_member.manager_id or NO_MANAGER}"]
    if policy == ReassignmentApproval.BOTH_MANAGERS:
        managers = Member.objects.filter(pk__in=set(from_member_ids)).values_list(
            "manager_id", flat=True
        )
        for manager_id in sorted({m or 0 for m in managers}):
            key = f"outgoing:{manager_id or NO_MANAGER}"
            if key not in required:
                required.append(key)
    return required


def slot_manager_id(slot: str) -> int | None:
    value = slot.split(":", 1)[1]
    return None if value == NO_MANAGER else int(value)


def _impact(*, workspace, account_ids, allocation_ids) -> dict:
    deals = Opportunity.objects.filter(
        workspace=workspace, account_id__in=account_ids, is_closed=False
    ).aggregate(n=Count("id"), amount=Sum("amount"))
    pending = Allocation.objects.filter(
        workspace=workspace, pk__in=allocation_ids, is_current=True
    ).count()
    return {
        "accounts": len(account_ids),
        "open_deals": deals["n"] or 0,
        "open_pipeline": float(deals["amount"] or Decimal(0)),
        "pending_allocations": pending,
    }


def _request_state(request: ReassignmentRequest) -> dict:
    return {
        "status": request.status,
        "to_member": request.to_member_id,
        "effective_at": request.effective_at.isoformat(),
        "open_deals": request.open_deals,
        "impact": request.impact,
        "required_approvals": request.required_approvals,
    }


def _event_data(request: ReassignmentRequest, **extra) -> dict:
    return {
        "id": request.pk,
        "status": request.status,
        "to_member": request.to_member_id,
        "reason": request.reason,
        "effective_at": request.effective_at.isoformat(),
        "impact": request.impact,
        **extra,
    }


def _concerned(request: ReassignmentRequest) -> list[Member]:
    """The members an event about the request concerns: the new owner, the current owners
    and the managers whose approval it needs."""
    ids = {request.to_member_id}
    ids.update(request.items.exclude(from_member=None).values_list("from_member_id", flat=True))
    ids.update(m for m in map(slot_manager_id, request.required_approvals) if m)
    return list(Member.objects.filter(workspace_id=request.workspace_id, pk__in=ids))


def reassignment_request_create(
    *,
    workspace,
    actor,
    membership=None,
    to_member: Member,
    reason: str,
    effective_at,
    open_deals: str = "follow_rep",
    account_ids=(),
    allocation_ids=(),
    from_member: Member | None = None,
    territory: Territory | None = None,
) -> ReassignmentRequest:
    """A pending request (approved at once under the `none` policy). Accounts are named, or
    chosen as "all accounts of `from_member` in `territory`" (its subtree); allocations must
    be current entries. A rep may only ask about records they own."""
    if not reason or not reason.strip():
        raise ApplicationError("A reason is required.", field="reason")
    if (from_member is None) != (territory is None):
        raise ApplicationError(
            "from_member and territory go together: all accounts of a rep in a territory.",
            field="from_member" if from_member is None else "territory",
        )
    account_ids = list(dict.fromkeys(account_ids))
    allocation_ids = list(dict.fromkeys(allocation_ids))
    accounts = list(
        Account.objects.filter(workspace=workspace, pk__in=account_ids).values_list(
            "pk", "owner_id"
        )
    )
    missing = sorted(set(account_ids) - {pk for pk, _ in accounts})
    if missing:
        raise ApplicationError(
            f"No such accounts in this workspace: {', '.join(map(str, missing[:20]))}.",
            field="accounts",
        )
    if from_member is not None:
        subtree = _subtree_ids(workspace=workspace, territory=territory)
        chosen = Account.objects.filter(
            workspace=workspace, owner=from_member, territory_id__in=subtree
        ).values_list("pk", "owner_id")[: MAX_ITEMS + 1]
        known = {pk for pk, _ in accounts}
        accounts += [(pk, owner) for pk, owner in chosen if pk not in known]
    allocations = list(
        Allocation.objects.filter(workspace=workspace, pk__in=allocation_ids).values_list(
            "pk", "owner_id", "is_current"
        )
    )
    missing = sorted(set(allocation_ids) - {pk for pk, _, _ in allocations})
    if missing:
        raise ApplicationError(
            f"No such allocations in this workspace: {', '.join(map(str, missing[:20]))}.",
            field="allocations",
        )
    stale = sorted(pk for pk, _, current in allocations if not current)
    if stale:
        raise ApplicationError(
            "Only a record's current entry can be reassigned; not current: "
            f"{', '.join(map(str, stale[:20]))}.",
            field="allocations",
        )
    if not accounts and not allocations:
        raise ApplicationError(
            "Name accounts or allocations, or a rep and a territory whose accounts move"
            + (" (that rep owns no account there)." if from_member is not None else "."),
            field="accounts",
        )
    if len(accounts) + len(allocations) > MAX_ITEMS:
        raise ApplicationError(f"At most {MAX_ITEMS} records per request.", field="accounts")
    owners = {owner for _, owner in accounts} | {owner for _, owner, _ in allocations}
    if to_member.pk in owners and len(owners) == 1:
        raise ApplicationError("This member already owns every record named.", field="to_member")
    if membership is not None and ROLE_RANK[membership.role] < ROLE_RANK[Role.MANAGER]:
        mine = membership.member_id
        if mine is None or owners - {mine}:
            raise ForbiddenError("A rep may request reassignment of their own records only.")
    policy = workspace.reassignment_approval
    with transaction.atomic():
        request = ReassignmentRequest.objects.create(
            workspace=workspace,
            to_member=to_member,
            from_member=from_member,
            territory=territory,
            reason=reason.strip(),
            effective_at=effective_at,
            open_deals=open_deals,
            impact=_impact(
                workspace=workspace,
                account_ids=[pk for pk, _ in accounts],
                allocation_ids=[pk for pk, _, _ in allocations],
            ),
            required_approvals=_required_approvals(
                policy=policy, to_member=to_member, from_member_ids=owners - {None}
            ),
            requested_by=actor.user,
            requested_by_api_key=actor.api_key,
            requested_by_label=actor.label,
        )
        ReassignmentItem.objects.bulk_create(
            [
                ReassignmentItem(
                    workspace=workspace,
                    request=request,
                    kind=ItemKind.ACCOUNT,
                    account_id=pk,
                    from_member_id=owner,
                )
                for pk, owner in accounts
            ]
            + [
                ReassignmentItem(
                    workspace=workspace,
                    request=request,
                    kind=ItemKind.ALLOCATION,
                    allocation_id=pk,
                    from_member_id=owner,
                )
                for pk, owner, _ in allocations
            ],
            batch_size=1000,
        )
        if not request.required_approvals:
            request.status = RequestStatus.APPROVED
            request.decided_at = timezone.now()
            request.save(update_fields=["status", "decided_at"])
        audit_record(
            workspace=workspace, actor=actor, action="create", obj=request,
            after=_request_state(request),
        )  # fmt: skip
        publish(
            workspace=workspace,
            event_type="reassignment_request.created",
            data=_event_data(request),
            members=_concerned(request),
        )
    return request


def settleable_slots(*, request: ReassignmentRequest, membership) -> list[str]:
    """The required approvals this person may give (all of them for an admin)."""
    remaining = [s for s in request.required_approvals if s not in settled_slots(request)]
    if membership is None:
        return []
    if membership.role == Role.ADMIN:
        return remaining
    mine = membership.member_id
    return [s for s in remaining if mine is not None and slot_manager_id(s) == mine]


def settled_slots(request: ReassignmentRequest) -> set[str]:
    return {
        slot
        for approval in request.approvals.all()
        if approval.decision == Decision.APPROVE
        for slot in approval.settles
    }


def reassignment_request_decide(
    *, workspace, actor, membership, request: ReassignmentRequest, decision: str, comment: str
) -> ReassignmentRequest:
    """An approver's approval or rejection, with a comment. One rejection rejects; the
    request is approved when every required approval is given (an admin's gives them all).
    Nobody decides their own request; an API key is nobody: decisions are people's."""
    if not comment or not comment.strip():
        raise ApplicationError("A decision carries a comment.", field="comment")
    if actor.user is None or membership is None:
        raise ForbiddenError("Approvals are made by people signed in, not by API keys.")
    with transaction.atomic():
        request = (
            ReassignmentRequest.objects.select_for_update()
            .filter(workspace=workspace, pk=request.pk)
            .first()
        )
        if request.requested_by_id == actor.user.pk:
            raise ForbiddenError("Nobody approves or rejects their own request.")
        if request.status != RequestStatus.PENDING:
            raise ConflictError(f"This request is {request.status}: it is no longer decided.")
        if request.approvals.filter(approver=actor.user).exists():
            raise ConflictError("You have already decided this request.")
        slots = settleable_slots(request=request, membership=membership)
        if not slots:
            raise ForbiddenError(
                "You are not an approver of this request: it needs "
                + ", ".join(_slot_words(s) for s in request.required_approvals)
                + " (or an admin)."
            )
        Approval.objects.create(
            workspace=workspace,
            request=request,
            approver=actor.user,
            approver_label=actor.label,
            settles=slots,
            decision=decision,
            comment=comment.strip(),
        )
        before = _request_state(request)
        if decision == Decision.REJECT:
            request.status = RequestStatus.REJECTED
        elif set(request.required_approvals) <= settled_slots(request):
            request.status = RequestStatus.APPROVED
        if request.status != RequestStatus.PENDING:
            request.decided_at = timezone.now()
        request.save(update_fields=["status", "decided_at"])
        audit_record(
            workspace=workspace, actor=actor, action=decision, obj=request, before=before,
            after={**_request_state(request), "comment": comment.strip()},
        )  # fmt: skip
        publish(
            workspace=workspace,
            event_type="reassignment_request.decided",
            data=_event_data(
                request, decision=decision, comment=comment.strip(), approver=actor.label
            ),
            members=_concerned(request),
        )
    return request


def _slot_words(slot: str) -> str:
    side, manager = slot.split(":", 1)
    who = "the new owner's manager" if side == "incoming" else "a current owner's manager"
    return who if manager == NO_MANAGER else f"{who} (member {manager})"


def reassignment_request_cancel(
    *, workspace, actor, membership, request: ReassignmentRequest
) -> ReassignmentRequest:
    """The requester (or an admin) withdraws a request that has not run."""
    with transaction.atomic():
        request = ReassignmentRequest.objects.select_for_update().get(
            workspace=workspace, pk=request.pk
        )
        is_admin = membership is not None and membership.role == Role.ADMIN
        own = (actor.user is not None and request.requested_by_id == actor.user.pk) or (
            actor.api_key is not None and request.requested_by_api_key_id == actor.api_key.pk
        )
        if not (own or is_admin):
            raise ForbiddenError("Only the requester or an admin cancels a request.")
        if request.status not in (RequestStatus.PENDING, RequestStatus.APPROVED):
            raise ConflictError(f"This request is {request.status}: it cannot be cancelled.")
        before = _request_state(request)
        request.status = RequestStatus.CANCELLED
        request.decided_at = timezone.now()
        request.save(update_fields=["status", "decided_at"])
        audit_record(
            workspace=workspace, actor=actor, action="cancel", obj=request, before=before,
            after=_request_state(request),
        )  # fmt: skip
    return request


def _execute_item(*, workspace, actor, request, item: ReassignmentItem) -> None:
    """One record moved (in a savepoint: a refusal leaves the others alone)."""
    try:
        with transaction.atomic():
            if item.kind == ItemKind.ACCOUNT:
                if item.account.owner_id == request.to_member_id:
                    item.status, item.detail = ItemStatus.DONE, "already owned by the new owner"
                    return
                moved = account_owner_change(
                    workspace=workspace,
                    actor=actor,
                    account=item.account,
                    owner=request.to_member,
                    reason=request.reason,
                    open_deals=request.open_deals,
                )
                item.new_allocation = moved["allocation"]
                item.detail = f"{moved['deals_moved']} open deals moved"
            else:
                item.new_allocation = allocation_reassign(
                    workspace=workspace,
                    actor=actor,
                    allocation=item.allocation,
                    owner=request.to_member,
                    reason=request.reason,
                    trace=[
                        {
                            "step": "request",
                            "outcome": "approved",
                            "detail": f"reassignment request {request.pk}",
                        }
                    ],
                )
            item.status = ItemStatus.DONE
    except ApplicationError as exc:
        item.status, item.detail = ItemStatus.FAILED, str(exc.message)[:500]


def reassignment_request_execute(*, request_id: int, now=None) -> ReassignmentRequest | None:
    """Runs an approved request whose effective date has come; a request another run holds
    is skipped (overlapping runs execute it once). Items the new owner cannot take (inactive,
    absent, at capacity) or that moved meanwhile fail with the reason; the others move."""
    now = now or timezone.now()
    with transaction.atomic():
        request = (
            ReassignmentRequest.objects.select_for_update(skip_locked=True)
            .select_related("workspace", "to_member")
            .filter(pk=request_id, status=RequestStatus.APPROVED, effective_at__lte=now)
            .first()
        )
        if request is None:
            return None
        workspace = request.workspace
        actor = SystemActor(name=f"reassignment request {request.pk}")
        items = list(
            request.items.filter(status=ItemStatus.PENDING).select_related("account", "allocation")
        )
        for item in items:
            _execute_item(workspace=workspace, actor=actor, request=request, item=item)
        ReassignmentItem.objects.bulk_update(
            items, ["status", "detail", "new_allocation"], batch_size=1000
        )
        counts = dict(
            request.items.order_by()
            .values("status")
            .annotate(n=Count("id"))
            .values_list("status", "n")
        )
        request.status = RequestStatus.EXECUTED
        request.executed_at = timezone.now()
        request.result = {
            "moved": counts.get(ItemStatus.DONE, 0),
            "failed": counts.get(ItemStatus.FAILED, 0),
        }
        request.save(update_fields=["status", "executed_at", "result"])
        audit_record(
            workspace=workspace, actor=actor, action="execute", obj=request,
            after={**_request_state(request), "result": request.result},
        )  # fmt: skip
        publish(
            workspace=workspace,
            event_type="reassignment_request.executed",
            data=_event_data(request, result=request.result),
            members=_concerned(request),
        )
    return request


def reassignment_requests_execute_due(*, now=None) -> int:
    """Every approved request whose effective date has come (the periodic task)."""
    now = now or timezone.now()
    due = ReassignmentRequest.objects.filter(
        status=RequestStatus.APPROVED, effective_at__lte=now
    ).values_list("pk", flat=True)
    done = 0
    for request_id in list(due[:500]):
        if reassignment_request_execute(request_id=request_id, now=now) is not None:
            done += 1
    return done
