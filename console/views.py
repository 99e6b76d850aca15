"""The dashboard: the one page that reads every domain app, so it lives on the top floor."""

from datetime import timedelta

from django.db.models import Count
from django.shortcuts import render
from django.utils import timezone

from allocation.models import Allocation
from capacities.selectors import utilisation_by_member
from crm_sync.models import WritebackOutbox
from members.models import Member
from revorg.permissions import role_required
from revorg.tenancy import workspace_rows


def _allocations_per_member(request, days=30):
    """Bars for the dashboard chart; SVG geometry is computed here, not in the template."""
    since = timezone.now() - timedelta(days=days)
    rows = list(
        workspace_rows(request, Allocation)
        .filter(created_at__gte=since, owner__isnull=False)
        .values("owner__name")
        .annotate(n=Count("id"))
        .order_by("-n")[:15]
    )
    top = max((r["n"] for r in rows), default=0) or 1
    for index, row in enumerate(rows):
        row["y"] = index * 22
        row["width"] = round(row["n"] / top * 380)
    return rows


@role_required("viewer")
def dashboard(request):
    workspace = request.workspace
    bars = _allocations_per_member(request)
    members = list(
        workspace_rows(request, Member)
        .filter(is_active=True, capacities__isnull=False)
        .distinct()[:200]
    )
    utilisation = utilisation_by_member(workspace=workspace, members=members)
    context = {
        "bars": bars,
        "utilisation": sorted(
            ({"member": m, **utilisation[m.pk]} for m in members if m.pk in utilisation),
            key=lambda row: -row["percent"],
        )[:15],
        "chart_height": max(len(bars) * 22, 22),
        # The queue: records whose current entry is unassigned (a reassigned one has left it).
        "unassigned": workspace_rows(request, Allocation)
        .filter(status="unassigned", is_current=True)
        .count(),
        "failed_writebacks": workspace_rows(request, WritebackOutbox)
        .filter(status="failed")
        .count(),
    }
    return render(request, "ui/dashboard.html", context)
