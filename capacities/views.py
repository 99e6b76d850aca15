"""Browser pages for capacities: every limit with its live usage, and the form managers edit
them with (the same serializer as the API, so the same validation and messages)."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from members.models import Member
from revorg.parsing import BadParameter, parse_id
from revorg.permissions import role_required
from revorg.services import audit_request
from revorg.tenancy import workspace_object_or_404, workspace_rows

from .api.serializers import CapacitySerializer, usage_by_capacity
from .models import Capacity, Period, Source
from .selectors import latest_open_deals

PAGE_SIZE = 50


def _rows(capacities):
    if not capacities:
        return []
    workspace = capacities[0].workspace
    usage = usage_by_capacity(capacities)
    open_deals = latest_open_deals(
        workspace=workspace, member_ids={c.member_id for c in capacities}
    )
    rows = []
    for capacity in capacities:
        used = usage[capacity.pk].used if capacity.pk in usage else 0
        rows.append(
            {
                "capacity": capacity,
                "used": used,
                "remaining": max(capacity.limit - used, 0),
                "resets_at": usage[capacity.pk].resets_at if capacity.pk in usage else None,
                "percent": min(round(used / capacity.limit * 100), 100) if capacity.limit else 100,
                "open_deals": open_deals.get(capacity.member_id),
            }
        )
    return rows


def _form_context(request, form=None, errors=None, capacity=None):
    capacities = (
        workspace_rows(request, Capacity)
        .select_related("member", "workspace")
        .order_by("member__name", "id")
    )
    search = request.GET.get("q", "").strip()[:200]
    if search:
        capacities = capacities.filter(member__name__icontains=search)
    page = Paginator(capacities, PAGE_SIZE).get_page(request.GET.get("page"))
    return {
        "page": page,
        "search": search,
        "rows": _rows(list(page.object_list)),
        "members": _member_options(request, selected=(form or {}).get("member")),
        "periods": Period.choices,
        "sources": Source.choices,
        "record_types": ["lead", "contact", "account", "opportunity"],
        "form": form or {},
        "errors": errors or {},
        "editing": capacity,
        "can_edit": request.role in ("manager", "admin"),
    }


MEMBER_OPTIONS = 50


def _member_options(request, search: str = "", selected=None) -> list[Member]:
    """A short list for the member picker (a workspace may have 10,000 members): the first
    matches by name, plus the member already chosen."""
    members = workspace_rows(request, Member).filter(is_active=True).order_by("name", "id")
    if search:
        members = members.filter(name__icontains=search)
    options = list(members[:MEMBER_OPTIONS])
    try:
        chosen = parse_id(selected, field="member")
    except BadParameter:  # the form already shows the serializer's error for this field
        chosen = None
    if chosen is not None and all(m.pk != chosen for m in options):
        options = list(workspace_rows(request, Member).filter(pk=chosen)) + options
    return options


@role_required("manager")
def capacity_member_options(request):
    """HTMX: the picker's options for what the manager typed."""
    members = _member_options(request, request.GET.get("member_q", "").strip()[:200])
    return render(request, "capacities/_member_options.html", {"members": members})


def _payload(post) -> dict:
    data = {
        "member": post.get("member") or None,
        "name": post.get("name", "").strip(),
        "limit": post.get("limit") or None,
        "period": post.get("period", "day"),
        "window_hours": post.get("window_hours") or None,
        "record_types": post.getlist("record_types"),
        "source": post.get("source", "allocations"),
    }
    return data


@role_required("viewer")
def capacity_index(request):
    return render(request, "capacities/index.html", _form_context(request))


@role_required("manager")
def capacity_save(request, pk=None):
    """Create (no pk) or edit; server-side errors are shown next to their field."""
    capacity = workspace_object_or_404(request, Capacity, pk=pk) if pk else None
    if request.method != "POST":
        form = CapacitySerializer(capacity).data if capacity else {}
        return render(
            request, "capacities/index.html", _form_context(request, form, None, capacity)
        )
    serializer = CapacitySerializer(
        capacity, data=_payload(request.POST), context={"request": request}
    )
    if not serializer.is_valid():
        errors = {
            field: " ".join(map(str, problems)) for field, problems in serializer.errors.items()
        }
        context = _form_context(request, request.POST, errors, capacity)
        return render(request, "capacities/index.html", context, status=400)
    with transaction.atomic():
        before = CapacitySerializer(capacity).data if capacity else None
        saved = serializer.save(workspace=request.workspace)
        audit_request(
            request,
            action="update" if capacity else "create",
            obj=saved,
            before=before,
            after=CapacitySerializer(saved).data,
        )
    messages.success(request, f"Capacity for {saved.member.name} saved.")
    return redirect("ui:capacities")


@role_required("manager")
@require_POST
def capacity_delete(request, pk):
    capacity = workspace_object_or_404(request, Capacity, pk=pk)
    with transaction.atomic():
        audit_request(
            request,
            action="delete",
            obj=capacity,
            before=CapacitySerializer(capacity).data,
        )
        capacity.delete()
    messages.success(request, "Capacity removed.")
    return redirect("ui:capacities")
