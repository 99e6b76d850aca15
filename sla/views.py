"""The rep's "My queue": their current records with the SLA clock of each, and Accept."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from allocation.models import Allocation, AllocationStatus
from members.models import Member
from revorg.errors import ApplicationError
from revorg.models import ROLE_RANK, Role
from revorg.parsing import parse_id
from revorg.permissions import role_required
from revorg.services import actor_from_request
from revorg.tenancy import workspace_object_or_404, workspace_rows

from .models import AcceptedVia
from .services import allocation_accept

QUEUE_SIZE = 200


def _queue_member(request):
    """Whose queue: the member the user is; a manager or higher may look at another's
    (`?member=`)."""
    membership = request.membership
    asked = parse_id(request.GET.get("member"), field="member")
    if asked is not None and ROLE_RANK[request.role] >= ROLE_RANK[Role.MANAGER]:
        return workspace_object_or_404(request, Member, pk=asked)
    return membership.member if membership is not None else None


@role_required("rep")
def my_queue(request):
    member = _queue_member(request)
    rows = []
    if member is not None:
        rows = list(
            workspace_rows(request, Allocation)
            .filter(owner=member, is_current=True, status__in=(AllocationStatus.ASSIGNED,
                                                              AllocationStatus.FALLBACK))
            .select_related("territory", "sla")
            .order_by("-id")[:QUEUE_SIZE]
        )  # fmt: skip
    now = timezone.now()
    for row in rows:
        clock = getattr(row, "sla", None)
        row.clock = clock
        if clock is None or clock.due_at is None:
            row.sla_state = "accepted" if clock and clock.accepted_at else "no SLA"
        elif clock.accepted_at:
            row.sla_state = "accepted"
        elif clock.due_at <= now:
            row.sla_state = "overdue"
        elif clock.reminded_at:
            row.sla_state = "due soon"
        else:
            row.sla_state = "open"
    pending = [r for r in rows if not (r.clock and r.clock.accepted_at)]
    managers = []
    if ROLE_RANK[request.role] >= ROLE_RANK[Role.MANAGER]:
        managers = list(
            workspace_rows(request, Member).filter(is_active=True).order_by("name")[:500]
        )
    return render(
        request,
        "sla/my_queue.html",
        {"member": member, "rows": rows, "pending": len(pending), "members": managers},
    )


@require_POST
@role_required("rep")
def queue_accept(request, pk):
    allocation = workspace_object_or_404(request, Allocation, pk=pk)
    membership = request.membership
    mine = membership is not None and membership.member_id == allocation.owner_id
    if not mine and ROLE_RANK[request.role] < ROLE_RANK[Role.MANAGER]:
        raise PermissionDenied("only the owner (or a manager) accepts a record")
    try:
        allocation_accept(
            workspace=request.workspace,
            actor=actor_from_request(request),
            allocation=allocation,
            via=AcceptedVia.UI,
        )
    except ApplicationError as exc:
        messages.error(request, f"#{allocation.pk}: {exc.message}")
    else:
        messages.success(request, f"Accepted {allocation.record_type} {allocation.record_id}.")
    if not mine and allocation.owner_id:
        return redirect(f"{reverse('ui:my-queue')}?member={allocation.owner_id}")
    return redirect("ui:my-queue")
