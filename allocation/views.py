"""Browser pages for allocations: the history (filters, keyset pages) and one decision trace.

No allocation selector exists yet, so the history query lives here; keyset paging on id keeps
page N as cheap as page 1 at 100,000 rows.
"""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from allocation.models import Allocation, AllocationStatus, RecordType
from allocation.selectors import allocation_current_id
from crm_sync import services as crm_services
from crm_sync.models import WritebackOutbox, WritebackStatus
from members.models import Member
from revorg.parsing import parse_id
from revorg.permissions import role_required
from revorg.tenancy import workspace_object_or_404, workspace_rows

PAGE_SIZE = 50


@role_required("viewer")
def allocation_index(request):
    rows = workspace_rows(request, Allocation).select_related("owner", "territory")
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
    before = parse_id(request.GET.get("before"), field="before")
    if before is not None:
        rows = rows.filter(id__lt=before)
    page = list(rows.order_by("-id")[: PAGE_SIZE + 1])
    has_next = len(page) > PAGE_SIZE
    page = page[:PAGE_SIZE]
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
        },
        "owners": workspace_rows(request, Member).order_by("name").values("id", "name")[:500],
    }
    return render(request, "allocation/index.html", context)


@role_required("viewer")
def allocation_detail(request, pk):
    allocation = (
        workspace_rows(request, Allocation)
        .filter(pk=pk)
        .select_related("owner", "territory", "reassigned_from")
        .first()
    )
    if allocation is None:
        raise Http404("no such allocation")
    steps = []
    for step in allocation.decision or []:
        step = dict(step) if isinstance(step, dict) else {"step": str(step)}
        label = step.pop("step", None) or step.pop("kind", None) or "step"
        steps.append({"label": label, "details": sorted(step.items())})
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
        "steps": steps,
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
