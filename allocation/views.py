"""Browser pages for allocations: the history (filters, keyset pages) and one decision trace.

No allocation selector exists yet, so the history query lives here; keyset paging on id keeps
page N as cheap as page 1 at 100,000 rows.
"""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from allocation.models import Allocation, AllocationStatus, RecordType
from allocation.selectors import (
    allocation_current_id,
    allocation_state,
    allocation_state_annotate,
)
from crm_sync import services as crm_services
from crm_sync.models import WritebackOutbox, WritebackStatus
from members.models import Member
from revorg.parsing import parse_id
from revorg.permissions import role_required
from revorg.tenancy import workspace_object_or_404, workspace_rows
from territories.models import Territory

PAGE_SIZE = 50


@role_required("viewer")
def allocation_index(request):
    rows = allocation_state_annotate(
        workspace_rows(request, Allocation).select_related("owner", "territory")
    )
    status = request.GET.get("status", "")
    if status in AllocationStatus.values:
        rows = rows.filter(status=status)
    record_type = request.GET.get("record_type", "")
    if record_type in RecordType.values:
        rows = rows.filter(record_type=record_type)
    owner = parse_id(request.GET.get("owner"), field="owner")
    if owner is not None:
        rows = rows.filter(owner_id=owner)
    record_id = request.GET.get("record_id", "").strip()[:255]
    if record_id:
        rows = rows.filter(record_id=record_id)
    writeback = request.GET.get("writeback", "")
    if writeback in WritebackStatus.values:
        rows = rows.filter(writeback__status=writeback)
    # Current entries only: with status=unassigned, the unassigned queue.
    current = request.GET.get("current", "") == "yes"
    if current:
        rows = rows.filter(is_current=True)
    before = parse_id(request.GET.get("before"), field="before")
    if before is not None:
        rows = rows.filter(id__lt=before)
    page = list(rows.order_by("-id")[: PAGE_SIZE + 1])
    has_next = len(page) > PAGE_SIZE
    page = page[:PAGE_SIZE]
    for row in page:
        row.state, row.successor_id = allocation_state(allocation=row)
    query = request.GET.copy()
    query.pop("before", None)
    context = {
        "rows": page,
        "next_before": page[-1].id if has_next else None,
        "is_first": before is None,
        "query": query.urlencode(),
        "statuses": AllocationStatus.values,
        "record_types": RecordType.values,
        "writeback_statuses": WritebackStatus.values,
        "filters": {
            "status": status,
            "record_type": record_type,
            "owner": owner,
            "record_id": record_id,
            "writeback": writeback,
            "current": current,
        },
        "is_queue": current and status == AllocationStatus.UNASSIGNED,
        "owners": workspace_rows(request, Member).order_by("name").values("id", "name")[:500],
    }
    return render(request, "allocation/index.html", context)


def _is_id(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _trace_steps(request, decision, *, previous=None, reason="") -> list[dict]:
    """The decision trace with the territories and members it names by id resolved to their
    names (one query each, whatever the trace's length)."""
    steps = [dict(step) if isinstance(step, dict) else {"step": str(step)} for step in decision]
    ids = {"territory": set(), "member": set()}
    for step in steps:
        for key, wanted in ids.items():
            if _is_id(step.get(key)):
                wanted.add(step[key])
    names = {
        "territory": dict(
            workspace_rows(request, Territory)
            .filter(pk__in=ids["territory"])
            .values_list("pk", "name")
        )
        if ids["territory"]
        else {},
        "member": dict(
            workspace_rows(request, Member).filter(pk__in=ids["member"]).values_list("pk", "name")
        )
        if ids["member"]
        else {},
    }
    rendered = []
    for step in steps:
        label = step.pop("step", None) or step.pop("kind", None) or "step"
        refs = []
        for key in ("territory", "member"):
            if _is_id(step.get(key)):
                ref_id = step.pop(key)
                refs.append(
                    {"kind": key, "id": ref_id, "name": names[key].get(ref_id, f"#{ref_id}")}
                )
        outcome = step.pop("outcome", "")
        detail = step.pop("detail", "")
        if label == "reassign" and previous is not None:
            # The stored text names the previous owner by id: say it from the entry itself.
            previous_owner = previous.owner.name if previous.owner else "unassigned"
            detail = f"reassigned from {previous_owner}: {reason}"
        rendered.append(
            {
                "label": label,
                "outcome": outcome,
                "refs": refs,
                "detail": detail,
                "extra": sorted(step.items()),
            }
        )
    return rendered


def _field_rows(fields) -> list[tuple[str, str]]:
    """The record's fields as (name, shown value) rows: lists joined, None shown as empty."""
    rows = []
    for name, value in sorted((fields or {}).items()):
        if isinstance(value, list):
            value = ", ".join("" if item is None else str(item) for item in value)
        rows.append((name, "" if value is None else str(value)))
    return rows


@role_required("viewer")
def allocation_detail(request, pk):
    allocation = workspace_object_or_404(
        request,
        Allocation.objects.select_related("owner", "territory", "reassigned_from__owner"),
        pk=pk,
    )
    state, successor_id = allocation_state(allocation=allocation)
    writeback = workspace_rows(request, WritebackOutbox).filter(allocation=allocation).first()
    members = (
        workspace_rows(request, Member)
        .filter(is_active=True)
        .exclude(pk=allocation.owner_id)
        .order_by("name")
        .values("id", "name")[:500]
    )
    context = {
        "a": allocation,
        "steps": _trace_steps(
            request,
            allocation.decision or [],
            previous=allocation.reassigned_from,
            reason=allocation.reason,
        ),
        "fields": _field_rows(allocation.record_fields),
        "state": state,
        "successor_id": successor_id,
        "writeback": writeback,
        "members": members,
        # A replaced entry cannot be reassigned (409): the page links the current one.
        "current_id": None
        if allocation.is_current
        else allocation_current_id(allocation=allocation),
    }
    return render(request, "allocation/detail.html", context)


@role_required("manager")
@require_POST
def writeback_retry(request, pk):
    """Puts a failed write-back back in the queue the workers drain (crm_sync decides:
    superseded instead when a newer entry of the record exists)."""
    workspace_object_or_404(request, Allocation, pk=pk)  # another workspace's entry: a 404
    outcome = crm_services.writeback_retry(workspace=request.workspace, allocation_id=pk)
    if outcome == "pending":
        messages.success(request, "Write-back queued again.")
    elif outcome == "superseded":
        messages.info(request, "A newer entry replaced this one: its owner is the one written.")
    else:
        messages.error(request, "Only a failed write-back can be retried.")
    return redirect("ui:allocation-detail", pk=pk)


@role_required("manager")
@require_POST
def writeback_retry_failed(request):
    """ "Retry all failed" on the history filtered to failed write-backs."""
    result = crm_services.writeback_retry_failed(workspace=request.workspace)
    messages.success(
        request,
        f"{result['retried']} failed write-back{'s' if result['retried'] != 1 else ''} queued "
        f"again; {result['superseded']} replaced by a newer entry.",
    )
    return redirect(f"{reverse('ui:allocations')}?writeback=failed")
