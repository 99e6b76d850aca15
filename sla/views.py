"""The rep's "My queue": their current records with the SLA clock of each, and Accept."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import F
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from allocation.models import Allocation, AllocationStatus, RecordType
from members.models import Member
from revorg.errors import ApplicationError
from revorg.models import ROLE_RANK, Role
from revorg.parsing import parse_id
from revorg.permissions import role_required
from revorg.services import actor_from_request
from revorg.tenancy import workspace_object_or_404, workspace_rows
from territories.models import Territory

from .api.serializers import SlaPolicySerializer
from .models import AcceptedVia, BreachAction, SlaPolicy, default_record_types
from .services import allocation_accept
from .services import sla_policy_delete as sla_policy_delete_service
from .services import sla_policy_save as sla_policy_save_service

QUEUE_SIZE = 200
TERRITORY_OPTIONS = 1000


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


# --- SLA policies: the list every role reads, the form admins create and edit with -------


def _policy_payload(post) -> dict:
    """The form's fields as the API's body (the serializer validates and names fields)."""
    return {
        "name": post.get("name", "").strip(),
        "territory": post.get("territory") or None,
        "respond_within_minutes": post.get("respond_within_minutes") or None,
        "remind_at_percent": post.get("remind_at_percent") or None,
        "on_breach": post.get("on_breach", ""),
        "max_breaches": post.get("max_breaches", ""),
        "record_types": post.getlist("record_types"),
    }


NEW_POLICY = {
    "remind_at_percent": 75,
    "max_breaches": 2,
    "on_breach": BreachAction.REASSIGN,
    "record_types": default_record_types(),
}


def _policy_context(request, *, form=None, errors=None, editing=None) -> dict:
    policies = list(
        workspace_rows(request, SlaPolicy)
        .select_related("territory__plan")
        .order_by(F("territory").asc(nulls_first=True), "name", "id")
    )
    territories = (
        workspace_rows(request, Territory)
        .select_related("plan")
        .order_by("-plan__status", "plan__name", "name", "id")[:TERRITORY_OPTIONS]
    )
    return {
        "policies": policies,
        "territories": territories,
        "breach_actions": BreachAction.choices,
        "record_types": RecordType.choices,
        "form": form or NEW_POLICY,
        "errors": errors or {},
        "editing": editing,
        "can_edit": request.role == Role.ADMIN,
    }


@role_required("viewer")
def sla_policy_index(request):
    return render(request, "sla/policies.html", _policy_context(request))


@role_required("admin")
def sla_policy_save(request, pk=None):
    """Create (no pk) or edit: the API's serializer validates (the same messages, next to
    their field); the write and its audit are `services.sla_policy_save`."""
    policy = workspace_object_or_404(request, SlaPolicy, pk=pk) if pk else None
    if request.method != "POST":
        form = SlaPolicySerializer(policy).data if policy else None
        return render(
            request, "sla/policies.html", _policy_context(request, form=form, editing=policy)
        )
    serializer = SlaPolicySerializer(
        policy,
        data=_policy_payload(request.POST),
        context={"request": request, "workspace": request.workspace},
    )
    if not serializer.is_valid():
        errors = {
            field: " ".join(map(str, problems)) for field, problems in serializer.errors.items()
        }
        form = {**_policy_payload(request.POST), "territory": request.POST.get("territory", "")}
        context = _policy_context(request, form=form, errors=errors, editing=policy)
        return render(request, "sla/policies.html", context, status=400)
    saved = sla_policy_save_service(
        workspace=request.workspace,
        actor=actor_from_request(request),
        policy=policy,
        data=serializer.validated_data,
    )
    messages.success(request, f"SLA policy “{saved.name}” saved.")
    return redirect("ui:sla-policies")


@require_POST
@role_required("admin")
def sla_policy_delete(request, pk):
    policy = workspace_object_or_404(request, SlaPolicy, pk=pk)
    sla_policy_delete_service(
        workspace=request.workspace, actor=actor_from_request(request), policy=policy
    )
    messages.success(
        request, f"SLA policy “{policy.name}” deleted: its running clocks close without action."
    )
    return redirect("ui:sla-policies")
