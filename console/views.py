"""The pages that read several domain apps (the dashboard, the workspace settings with its
owner of last resort), so they live on the top floor."""

from datetime import timedelta

from django.contrib import messages
from django.db.models import Count, Q
from django.shortcuts import redirect, render
from django.utils import timezone
from rest_framework.serializers import BooleanField, ChoiceField

from allocation.models import Allocation
from analytics.views import dashboard_cards
from book.selectors import coverage_summary
from capacities.selectors import utilisation_by_member
from crm_sync.models import WritebackOutbox
from members.models import Member
from revorg import services as revorg_services
from revorg.api_views import WorkspaceSerializer
from revorg.errors import ApplicationError
from revorg.permissions import role_required
from revorg.tenancy import workspace_rows
from sla.selectors import time_to_accept_named


def _allocations_per_member(request, days=30):
    """Bars for the dashboard chart (routed records: the book's re-evaluations are the
    coverage card's); SVG geometry is computed here, not in the template."""
    since = timezone.now() - timedelta(days=days)
    rows = list(
        workspace_rows(request, Allocation)
        .filter(created_at__gte=since, owner__isnull=False, is_book=False)
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
        "coverage": coverage_summary(workspace=workspace),
        "performance": dashboard_cards(workspace=workspace),
        "time_to_accept_members": time_to_accept_named(
            workspace=workspace, by="member", since=timezone.now() - timedelta(days=30)
        )[:15],
        "time_to_accept_territories": time_to_accept_named(
            workspace=workspace, by="territory", since=timezone.now() - timedelta(days=30)
        )[:15],
    }
    return render(request, "ui/dashboard.html", context)


def _settings_form_fields(serializer) -> list[dict]:
    """The workspace settings the API lets an admin change, as form fields: a field the
    workspace gains (e.g. `account_ownership_writeback`) appears here without a template
    change."""
    fields = []
    for name, field in serializer.fields.items():
        if field.read_only or name == "id":
            continue
        kind = "text"
        if name == "default_member":
            kind = "member"
        elif isinstance(field, BooleanField):
            kind = "checkbox"
        elif isinstance(field, ChoiceField):
            kind = "choice"
        fields.append(
            {
                "name": name,
                "label": field.label or name.replace("_", " ").capitalize(),
                "help": field.help_text or "",
                "kind": kind,
                "choices": [
                    {"value": str(value), "label": label}
                    for value, label in getattr(field, "choices", {}).items()
                ]
                if kind == "choice"
                else [],
            }
        )
    return fields


@role_required("admin")
def workspace_settings(request):
    """Name, owner of last resort and the other workspace settings, validated as
    `PATCH /api/v1/workspace/` validates them, written (and audited) by `workspace_update`."""

    workspace = request.workspace
    serializer = WorkspaceSerializer(workspace, context={"request": request})
    form_fields = _settings_form_fields(serializer)
    errors = {}
    if request.method == "POST":
        data = {}
        for field in form_fields:
            if field["kind"] == "checkbox":
                data[field["name"]] = request.POST.get(field["name"]) == "on"
            elif field["kind"] == "member":
                data[field["name"]] = request.POST.get(field["name"]) or None
            elif field["kind"] == "choice":
                if field["name"] in request.POST:  # a form without the select keeps it
                    data[field["name"]] = request.POST[field["name"]]
            else:
                data[field["name"]] = request.POST.get(field["name"], "")
        serializer = WorkspaceSerializer(
            workspace, data=data, partial=True, context={"request": request}
        )
        if serializer.is_valid():
            try:
                revorg_services.workspace_update(
                    workspace=workspace,
                    actor=revorg_services.actor_from_request(request),
                    **serializer.validated_data,
                )
            except ApplicationError as exc:
                errors = {exc.field or "form": exc.message}
            else:
                messages.success(request, "Workspace settings saved.")
                return redirect("ui:workspace-settings")
        else:
            errors = {key: " ".join(map(str, value)) for key, value in serializer.errors.items()}
    for field in form_fields:
        field["value"] = (
            request.POST.get(field["name"], "")
            if errors and field["kind"] in ("text", "choice")
            else getattr(workspace, field["name"])
        )
        if field["kind"] == "choice":
            field["value"] = str(field["value"])
        field["error"] = errors.get(field["name"], "")
    # A workspace may have 10,000 members: the picker lists those the search finds.
    member_search = request.GET.get("member_q", "").strip()[:200]
    candidates = workspace_rows(request, Member).filter(is_active=True)
    if member_search:
        candidates = candidates.filter(
            Q(name__icontains=member_search) | Q(email__icontains=member_search)
        )
    context = {
        "form_fields": form_fields,
        "errors": errors,
        "members": list(candidates.order_by("name", "id").values("id", "name", "email")[:200]),
        "member_search": member_search,
        "default_member": workspace.default_member,
    }
    return render(request, "ui/workspace_settings.html", context, status=400 if errors else 200)
