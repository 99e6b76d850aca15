"""Browser pages for members: a searchable paged table (who is absent now), adding members,
the member page (profile, territories and slots, capacities with usage, absences, recent
allocations), deactivating and reactivating.

Validation reuses the API serializers so the browser and the API refuse the same input; the
writes are `members.services`, which audit them.
"""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from allocation.models import Allocation
from allocation.selectors import allocation_state, allocation_state_annotate
from capacities.selectors import utilisation_by_member
from capacities.services import capacity_list_for_members, capacity_usage_for_members
from members import services
from members.api.serializers import AbsenceSerializer, MemberSerializer
from members.models import Absence, Member
from members.selectors import absent_member_ids, member_list
from members.validation import WORKING_DAYS, schedule_as_text, schedule_from_text
from revorg.models import ROLE_RANK, Role
from revorg.permissions import role_required
from revorg.services import actor_from_request
from revorg.tenancy import workspace_object_or_404, workspace_rows
from revorg.zones import zone_get, zone_name
from territories.models import TerritorySlot

PAGE_SIZE = 50
TAG_FIELDS = ("languages", "specialisations")
PROFILE_FIELDS = ("name", "email", "title", "role", "timezone")
RECENT_ALLOCATIONS = 20


def _tags(text: str) -> list[str]:
    return [tag.strip() for tag in text.replace(";", ",").split(",") if tag.strip()]


def _errors(serializer) -> dict:
    return {key: " ".join(map(str, value)) for key, value in serializer.errors.items()}


def _profile_data(request, metadata=None) -> dict:
    data = {field: request.POST.get(field, "") for field in PROFILE_FIELDS}
    metadata = dict(metadata or {})
    for field in TAG_FIELDS:
        metadata[field] = _tags(request.POST.get(field, ""))
    data["metadata"] = metadata
    return data


def _index_context(request) -> dict:
    search = request.GET.get("q", "").strip()[:200]
    members = workspace_rows(request, member_list(workspace=request.workspace, search=search))
    role = request.GET.get("role", "").strip()
    if role:
        members = members.filter(role__iexact=role)
    active = request.GET.get("active", "")
    if active in ("yes", "no"):
        members = members.filter(is_active=active == "yes")
    page = Paginator(members.order_by("name", "id"), PAGE_SIZE).get_page(request.GET.get("page"))
    roles = (
        member_list(workspace=request.workspace)
        .exclude(role="")
        .order_by("role")
        .values_list("role", flat=True)
        .distinct()
    )
    query = request.GET.copy()
    query.pop("page", None)
    rows = list(page.object_list)
    usage = utilisation_by_member(workspace=request.workspace, members=rows)
    absent = absent_member_ids(workspace=request.workspace, member_ids=[m.pk for m in rows])
    for member in rows:
        member.usage = usage.get(member.pk)
        member.absent_now = member.pk in absent
    return {
        "page": page,
        "search": search,
        "role": role,
        "active": active,
        "roles": list(roles),
        "query": query.urlencode(),
        "can_add": request.role == "admin",
        "new_errors": {},
        "new_form": None,
    }


@role_required("viewer")
def member_index(request):
    context = _index_context(request)
    template = "members/_table.html" if request.htmx else "members/index.html"
    return render(request, template, context)


@role_required("admin")
@require_POST
def member_create(request):
    """Adds a member by hand (teams without a CRM, or before the first sync)."""
    data = {**_profile_data(request), "is_active": True}
    if not data["timezone"]:
        del data["timezone"]  # the model's default, UTC
    serializer = MemberSerializer(
        data=data, context={"request": request, "workspace": request.workspace}
    )
    if serializer.is_valid():
        member = services.member_create(
            workspace=request.workspace,
            actor=actor_from_request(request),
            **serializer.validated_data,
        )
        messages.success(request, f"{member.name} added.")
        return redirect("ui:member-detail", pk=member.pk)
    context = _index_context(request)
    context.update({"new_errors": _errors(serializer), "new_form": request.POST})
    return render(request, "members/index.html", context, status=400)


def _detail_context(request, member, **extra) -> dict:
    """Everything the member page shows; a few queries whatever the member's history."""
    zone_mode = "member" if request.GET.get("zone") == "member" else "viewer"
    capacities = capacity_list_for_members(workspace=request.workspace, member_ids=[member.pk])
    usage = {
        row.capacity_id: row
        for row in capacity_usage_for_members(
            workspace=request.workspace, members=[member], capacities=capacities
        ).get(member.pk, [])
    }
    capacity_rows = []
    for capacity in capacities:
        row = usage.get(capacity.pk)
        used = row.used if row else 0
        capacity_rows.append(
            {
                "capacity": capacity,
                "used": used,
                "remaining": max(capacity.limit - used, 0),
                "percent": min(round(used / capacity.limit * 100), 100) if capacity.limit else 100,
                "resets_at": row.resets_at if row else None,
            }
        )
    slots = list(
        workspace_rows(request, TerritorySlot)
        .filter(member=member)
        .select_related("territory__plan")
        .order_by("territory__plan__status", "territory__name", "role")[:200]
    )
    recent = list(
        allocation_state_annotate(
            workspace_rows(request, Allocation).filter(owner=member).select_related("territory")
        ).order_by("-created_at", "-id")[:RECENT_ALLOCATIONS]
    )
    for entry in recent:
        entry.state, entry.successor_id = allocation_state(allocation=entry)
    absences = list(
        workspace_rows(request, Absence).filter(member=member).order_by("-starts_at")[:50]
    )
    absent_now = bool(absent_member_ids(workspace=request.workspace, member_ids=[member.pk]))
    display_zone = zone_get(member.timezone) if zone_mode == "member" else request.viewer_timezone
    context = {
        "member": member,
        "tags": {field: ", ".join(member.metadata.get(field, []) or []) for field in TAG_FIELDS},
        "absences": absences,
        "absent_now": absent_now,
        "slots": slots,
        "capacity_rows": capacity_rows,
        "recent": recent,
        "zone_mode": zone_mode,
        "display_zone": display_zone,
        "display_zone_name": zone_name(display_zone),
        "errors": {},
        "absence_errors": {},
        "absence_form": None,
        "form": None,
        "can_edit": request.role in ("manager", "admin"),
        "can_activate": request.role == "admin",
        "can_edit_hours": ROLE_RANK.get(request.role, -1) >= ROLE_RANK[Role.MANAGER],
        "hours": _hours_rows(member.working_hours),
        "hours_errors": {},
    }
    context.update(extra)
    return context


@role_required("viewer")
def member_detail(request, pk):
    member = workspace_object_or_404(request, Member, pk=pk)
    if request.method == "POST":
        if request.role not in ("manager", "admin"):
            return render(request, "403.html", status=403)
        serializer = MemberSerializer(
            member,
            data=_profile_data(request, member.metadata),
            partial=True,
            context={"request": request, "workspace": request.workspace},
        )
        if serializer.is_valid():
            member = services.member_update(
                member=member, actor=actor_from_request(request), **serializer.validated_data
            )
            messages.success(request, f"{member.name} saved.")
            return redirect("ui:member-detail", pk=member.pk)
        context = _detail_context(request, member, errors=_errors(serializer), form=request.POST)
        return render(request, "members/detail.html", context, status=400)
    return render(request, "members/detail.html", _detail_context(request, member))


@role_required("admin")
@require_POST
def member_activation(request, pk):
    """Deactivate (`is_active=0`) or reactivate (`is_active=1`) a member: admins only."""
    member = workspace_object_or_404(request, Member, pk=pk)
    wanted = request.POST.get("is_active")
    if wanted not in ("0", "1"):
        context = _detail_context(request, member, errors={"is_active": "is_active must be 0 or 1"})
        return render(request, "members/detail.html", context, status=400)
    member = services.member_set_active(
        member=member, actor=actor_from_request(request), is_active=wanted == "1"
    )
    if member.is_active:
        messages.success(request, f"{member.name} is active again: allocation may pick them.")
    else:
        messages.success(request, f"{member.name} is deactivated: allocation skips them.")
    return redirect("ui:member-detail", pk=member.pk)


DAY_NAMES = dict(
    zip(
        WORKING_DAYS,
        ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
        strict=True,
    )
)


def _hours_rows(schedule, form=None, errors=None) -> list[dict]:
    """One row per weekday for the working-hours table and form (the posted text and its
    error after a refused save)."""
    texts = form if form is not None else schedule_as_text(schedule)
    errors = errors or {}
    return [
        {"day": day, "name": DAY_NAMES[day], "text": texts.get(day, ""), "error": errors.get(day)}
        for day in WORKING_DAYS
    ]


@role_required("manager")
def working_hours_save(request, pk):
    """The member's weekly schedule (their zone), from one text field per day; checked by the
    API's serializer, saved (and audited) by `members.services.member_update`."""
    member = workspace_object_or_404(request, Member, pk=pk)
    if request.method != "POST":
        return redirect("ui:member-detail", pk=member.pk)
    form = {day: request.POST.get(day, "")[:200] for day in WORKING_DAYS}
    schedule, errors = schedule_from_text(form)
    if not errors:
        serializer = MemberSerializer(
            member,
            data={"working_hours": schedule},
            partial=True,
            context={"request": request, "workspace": request.workspace},
        )
        if serializer.is_valid():
            services.member_update(
                member=member, actor=actor_from_request(request), **serializer.validated_data
            )
            messages.success(request, f"Working hours of {member.name} saved.")
            return redirect("ui:member-detail", pk=member.pk)
        for line in serializer.errors.get("working_hours", []):
            day, _, message = str(line).partition(": ")
            errors[day if day in WORKING_DAYS else "all"] = message or str(line)
    context = _detail_context(request, member)
    context.update(hours=_hours_rows(member.working_hours, form, errors), hours_errors=errors)
    return render(request, "members/detail.html", context, status=400)


@role_required("manager")
def absence_add(request, pk):
    member = workspace_object_or_404(request, Member, pk=pk)
    if request.method != "POST":
        return redirect("ui:member-detail", pk=member.pk)
    if request.GET.get("zone") == "member":
        # The form showed and asked times in the member's zone: read them in it.
        timezone.activate(zone_get(member.timezone))
    serializer = AbsenceSerializer(data=request.POST, context={"request": request})
    if serializer.is_valid():
        services.absence_create(
            member=member, actor=actor_from_request(request), **serializer.validated_data
        )
        messages.success(request, "Absence added.")
        return redirect("ui:member-detail", pk=member.pk)
    context = _detail_context(
        request, member, absence_errors=_errors(serializer), absence_form=request.POST
    )
    return render(request, "members/detail.html", context, status=400)


@role_required("manager")
def absence_delete(request, pk, absence_pk):
    member = workspace_object_or_404(request, Member, pk=pk)
    if request.method == "POST":
        absence = workspace_rows(request, Absence).filter(member=member, pk=absence_pk).first()
        if absence is not None:
            services.absence_delete(absence=absence, actor=actor_from_request(request))
            messages.success(request, "Absence removed.")
    return redirect("ui:member-detail", pk=member.pk)
