"""The approval queue (managers, directors, admins) and the requests list, with the impact of
each request and approve/reject forms; a rep or manager files a request from an allocation."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_POST

from allocation.models import Allocation
from members.models import Member
from revorg.errors import ApplicationError
from revorg.models import ROLE_RANK, Role
from revorg.parsing import parse_id
from revorg.permissions import role_required
from revorg.services import actor_from_request
from revorg.tenancy import workspace_object_or_404, workspace_rows

from . import selectors, services
from .models import Decision, OpenDeals, ReassignmentRequest

RECENT = 50


@role_required("rep")
def request_index(request):
    queue = list(
        workspace_rows(
            request,
            selectors.approval_queue(workspace=request.workspace, membership=request.membership),
        ).prefetch_related("approvals", "items")[:100]
    )
    recent = list(
        workspace_rows(request, ReassignmentRequest)
        .select_related("to_member")
        .prefetch_related("approvals")[:RECENT]
    )
    for row in queue:
        row.my_slots = services.settleable_slots(request=row, membership=request.membership)
    context = {
        "queue": queue,
        "recent": recent,
        "may_decide": ROLE_RANK[request.role] >= ROLE_RANK[Role.MANAGER],
        "members": list(
            workspace_rows(request, Member).filter(is_active=True).order_by("name")[:500]
        ),
        "open_deal_choices": OpenDeals.choices,
        "policy": request.workspace.get_reassignment_approval_display(),
        "prefill_allocation": parse_id(request.GET.get("allocation"), field="allocation"),
    }
    return render(request, "reassignments/index.html", context)


@require_POST
@role_required("manager")
def request_decide(request, pk, verb):
    decisions = {"approve": Decision.APPROVE, "reject": Decision.REJECT}
    if verb not in decisions:
        raise Http404("no such decision")
    target = workspace_object_or_404(request, ReassignmentRequest, pk=pk)
    decision = decisions[verb]
    try:
        services.reassignment_request_decide(
            workspace=request.workspace,
            actor=actor_from_request(request),
            membership=request.membership,
            request=target,
            decision=decision,
            comment=request.POST.get("comment", "")[:2000],
        )
    except ApplicationError as exc:
        messages.error(request, f"Request #{target.pk}: {exc.message}")
    else:
        messages.success(request, f"Request #{target.pk} {decision}d.")
    return redirect("ui:reassignments")


@require_POST
@role_required("rep")
def request_create(request):
    """A request for one allocation's record, from the form on the page."""
    allocation_id = parse_id(request.POST.get("allocation"), field="allocation")
    member_id = parse_id(request.POST.get("to_member"), field="to_member")
    allocation = workspace_object_or_404(request, Allocation, pk=allocation_id or 0)
    to_member = workspace_object_or_404(request, Member, pk=member_id or 0)
    effective = request.POST.get("effective_at", "").strip()
    effective_at = parse_datetime(effective) if effective else timezone.now()
    if effective_at is not None and timezone.is_naive(effective_at):
        effective_at = timezone.make_aware(effective_at)
    open_deals = request.POST.get("open_deals", OpenDeals.FOLLOW_REP)
    try:
        if effective_at is None:
            raise ApplicationError("Effective date: use YYYY-MM-DD HH:MM.", field="effective_at")
        if open_deals not in OpenDeals.values:
            raise ApplicationError("Unknown open-deal policy.", field="open_deals")
        made = services.reassignment_request_create(
            workspace=request.workspace,
            actor=actor_from_request(request),
            membership=request.membership,
            to_member=to_member,
            reason=request.POST.get("reason", "")[:2000],
            effective_at=effective_at,
            open_deals=open_deals,
            allocation_ids=[allocation.pk],
        )
    except ApplicationError as exc:
        messages.error(request, exc.message if isinstance(exc.message, str) else str(exc))
    else:
        messages.success(request, f"Request #{made.pk} filed ({made.get_status_display()}).")
    return redirect("ui:reassignments")
