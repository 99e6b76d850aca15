"""Browser pages for members: a searchable paged table, edit with tag metadata, absences.

Validation reuses the API serializers so the browser and the API refuse the same input.
"""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render

from capacities.selectors import utilisation_by_member
from members.api.serializers import AbsenceSerializer, MemberSerializer
from members.models import Absence
from members.selectors import member_get, member_list
from revorg.permissions import role_required
from revorg.services import audit_request
from revorg.tenancy import workspace_rows

PAGE_SIZE = 50
TAG_FIELDS = ("languages", "specialisations")


def _tags(text: str) -> list[str]:
    return [tag.strip() for tag in text.replace(";", ",").split(",") if tag.strip()]


def _member_or_404(request, pk):
    member = member_get(workspace=request.workspace, member_id=pk)
    if member is None:
        raise Http404("no such member")
    return member


@role_required("viewer")
def member_index(request):
    search = request.GET.get("q", "").strip()[:200]
    members = member_list(workspace=request.workspace, search=search)
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
    usage = utilisation_by_member(workspace=request.workspace, members=list(page.object_list))
    for member in page.object_list:
        member.usage = usage.get(member.pk)
    context = {
        "page": page,
        "search": search,
        "role": role,
        "active": active,
        "roles": list(roles),
        "query": query.urlencode(),
    }
    template = "members/_table.html" if request.htmx else "members/index.html"
    return render(request, template, context)


@role_required("viewer")
def member_detail(request, pk):
    member = _member_or_404(request, pk)
    errors, absence_errors = {}, {}
    can_edit = request.role in ("manager", "admin")
    if request.method == "POST":
        if not can_edit:
            return render(request, "403.html", status=403)
        metadata = dict(member.metadata or {})
        for field in TAG_FIELDS:
            metadata[field] = _tags(request.POST.get(field, ""))
        data = {
            "name": request.POST.get("name", ""),
            "email": request.POST.get("email", ""),
            "title": request.POST.get("title", ""),
            "role": request.POST.get("role", ""),
            "timezone": request.POST.get("timezone", ""),
            "is_active": request.POST.get("is_active") == "on",
            "metadata": metadata,
        }
        serializer = MemberSerializer(member, data=data, partial=True, context={"request": request})
        if serializer.is_valid():
            before = MemberSerializer(member).data
            with transaction.atomic():
                member = serializer.save()
                audit_request(
                    request,
                    action="update",
                    obj=member,
                    before=before,
                    after=MemberSerializer(member).data,
                )
            messages.success(request, f"{member.name} saved.")
            return redirect("ui:member-detail", pk=member.pk)
        errors = {key: " ".join(map(str, value)) for key, value in serializer.errors.items()}
    context = {
        "member": member,
        "tags": {field: ", ".join(member.metadata.get(field, []) or []) for field in TAG_FIELDS},
        "absences": member.absences.order_by("-starts_at")[:50],
        "errors": errors,
        "absence_errors": absence_errors,
        "can_edit": can_edit,
        "form": request.POST if errors else None,
    }
    return render(request, "members/detail.html", context, status=400 if errors else 200)


@role_required("manager")
def absence_add(request, pk):
    member = _member_or_404(request, pk)
    if request.method != "POST":
        return redirect("ui:member-detail", pk=member.pk)
    serializer = AbsenceSerializer(data=request.POST, context={"request": request})
    if serializer.is_valid():
        with transaction.atomic():  # audited as the API's absence create is
            absence = serializer.save(workspace=request.workspace, member=member)
            audit_request(request, action="create", obj=absence, after=serializer.data)
        messages.success(request, "Absence added.")
        return redirect("ui:member-detail", pk=member.pk)
    context = {
        "member": member,
        "tags": {field: ", ".join(member.metadata.get(field, []) or []) for field in TAG_FIELDS},
        "absences": member.absences.order_by("-starts_at")[:50],
        "errors": {},
        "absence_errors": {k: " ".join(map(str, v)) for k, v in serializer.errors.items()},
        "absence_form": request.POST,
        "can_edit": True,
    }
    return render(request, "members/detail.html", context, status=400)


@role_required("manager")
def absence_delete(request, pk, absence_pk):
    member = _member_or_404(request, pk)
    if request.method == "POST":
        absence = workspace_rows(request, Absence).filter(member=member, pk=absence_pk).first()
        if absence is not None:
            with transaction.atomic():
                before = AbsenceSerializer(absence, context={"request": request}).data
                audit_request(request, action="delete", obj=absence, before=before)
                absence.delete()
        messages.success(request, "Absence removed.")
    return redirect("ui:member-detail", pk=member.pk)
