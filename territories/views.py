"""Browser pages for territories: plan picker, hierarchy tree, and the visual rule builder.

The builder posts to the territories REST API with the session (one validation path for
plays and people); plan activation and cloning call the services directly.
"""

from django.apps import apps
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from allocation.models import RecordType
from allocation.selectors import allocation_recent_field_keys
from allocation.services import allocation_dry_run
from crm_sync.models import CrmConnection
from members.models import Member
from members.selectors import member_attribute_keys
from revorg.errors import ApplicationError
from revorg.models import ROLE_RANK, Role
from revorg.parsing import parse_id
from revorg.permissions import role_required
from revorg.services import actor_from_request, audit_request
from revorg.tenancy import workspace_object_or_404, workspace_rows
from territories import selectors, services
from territories.api.serializers import TerritoryPlanSerializer, TerritorySerializer
from territories.models import (
    Distribution,
    PlanStatus,
    SlotRole,
    Territory,
    TerritoryKind,
    TerritoryPlan,
)
from territories.record_text import record_text_parse
from territories.rules import OPERATORS, rule_failures

# The rule fields a CRM connection maps by default (DESIGN.md section 7).
CRM_DEFAULT_FIELDS = (
    "country",
    "state",
    "postal_code",
    "city",
    "industry",
    "employees",
    "annual_revenue",
    "domain",
)
# Slots and pickers show this many members; more are found by searching.
MEMBER_PICKER_SIZE = 50


def _tree(territories) -> list[dict]:
    """The collapsible tree as a flat list of rows that one template loop renders, so any
    depth renders (no recursion, in Python or in templates): `{"t": territory, "opens":
    True if its children follow}`, and `{"closes": True}` after the last of them. Every
    territory appears once; one whose parent chain never reaches a root (legacy data with a
    cycle) is shown at the top level rather than hidden."""
    children: dict = {}
    ids = {territory.pk for territory in territories}
    for territory in territories:
        parent_id = territory.parent_id if territory.parent_id in ids else None
        children.setdefault(parent_id, []).append(territory)
    rows: list[dict] = []
    seen: set = set()
    closes = {"closes": True}
    for start in [*children.get(None, []), *territories]:
        stack = [start]
        while stack:
            item = stack.pop()
            if item is closes:
                rows.append(closes)
                continue
            if item.pk in seen:
                continue
            seen.add(item.pk)
            below = [child for child in children.get(item.pk, []) if child.pk not in seen]
            rows.append({"t": item, "opens": bool(below)})
            if below:
                stack.append(closes)
                stack.extend(reversed(below))
    return rows


def _plan_editable(request, plan: TerritoryPlan) -> bool:
    """Directors (their subtree: the others are not found) and admins edit drafts and the
    active plan; an archived plan is read-only history, a scheduled one is read-only until
    it activates or is unscheduled."""
    return (
        plan.status not in (PlanStatus.ARCHIVED, PlanStatus.SCHEDULED)
        and ROLE_RANK.get(request.role, -1) >= ROLE_RANK[Role.DIRECTOR]
    )


def _test_record_context(plan) -> dict:
    return {"test_plan": plan, "record_types": RecordType.choices}


@role_required("viewer")
def territory_index(request):
    plans = list(selectors.plan_list(workspace=request.workspace))
    plan_id = parse_id(request.GET.get("plan"), field="plan")
    plan = next((p for p in plans if p.pk == plan_id), None)
    plan = plan or selectors.plan_get_active(workspace=request.workspace) or next(iter(plans), None)
    territories = (
        list(
            workspace_rows(
                request, selectors.territory_list(workspace=request.workspace, plan=plan)
            ).order_by("name")
        )
        if plan
        else []
    )
    context = {
        "plans": plans,
        "plan": plan,
        "tree": _tree(territories),
        "count": len(territories),
        "editable": plan is not None and _plan_editable(request, plan),
        **_test_record_context(plan),
    }
    return render(request, "territories/index.html", context)


def _back_to(plan) -> str:
    return f"/territories/?plan={plan.pk}"


@role_required("admin")
@require_POST
def plan_clone(request, pk):
    plan = workspace_object_or_404(request, TerritoryPlan, pk=pk)
    name = request.POST.get("name", "").strip()[:200] or None
    with transaction.atomic():
        clone = services.plan_clone(plan=plan, name=name, actor=actor_from_request(request))
    messages.success(request, f"Draft {clone.name} created.")
    return redirect(_back_to(clone))


@role_required("admin")
@require_POST
def plan_rename(request, pk):
    plan = workspace_object_or_404(request, TerritoryPlan, pk=pk)
    name = request.POST.get("name", "").strip()
    if not 0 < len(name) <= 200:
        messages.error(request, "A plan's name is 1 to 200 characters.")
        return redirect(_back_to(plan))
    before = TerritoryPlanSerializer(plan).data
    try:
        with transaction.atomic():
            plan = services.plan_update(plan=plan, name=name)
            audit_request(
                request,
                action="update",
                obj=plan,
                before=before,
                after=TerritoryPlanSerializer(plan).data,
            )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Plan renamed to {plan.name}.")
    return redirect(_back_to(plan))


@role_required("admin")
@require_POST
def plan_delete(request, pk):
    plan = workspace_object_or_404(request, TerritoryPlan, pk=pk)
    if request.POST.get("confirm") != plan.name:
        messages.error(request, "Type the plan's name to confirm deletion.")
        return redirect(_back_to(plan))
    before = TerritoryPlanSerializer(plan).data
    try:
        with transaction.atomic():
            audit_request(request, action="delete", obj=plan, before=before)
            services.plan_delete(plan=plan)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect(_back_to(plan))
    messages.success(request, f"Plan {before['name']} deleted.")
    return redirect("/territories/")


@role_required("director")
@require_POST
def territory_delete(request, pk):
    territory = workspace_object_or_404(request, Territory, pk=pk)
    before = TerritorySerializer(territory).data
    try:
        with transaction.atomic():
            audit_request(request, action="delete", obj=territory, before=before)
            services.territory_delete(territory=territory)
    except ApplicationError as exc:
        messages.error(request, f"{territory.name} was not deleted: {exc.message}")
        return redirect(f"/territories/{territory.pk}/")
    messages.success(request, f"Territory {before['name']} deleted.")
    return redirect(f"/territories/?plan={before['plan']}")


def _field_suggestions(workspace) -> list[str]:
    """Rule-field suggestions: what the CRM maps, what plays sent lately, what the book's
    accounts carry (when the book app is installed). Suggestions only: any name is allowed."""
    names = set(CRM_DEFAULT_FIELDS)
    for settings in CrmConnection.objects.filter(workspace=workspace).values_list(
        "settings", flat=True
    ):
        mapping = settings.get("field_mapping") if isinstance(settings, dict) else None
        if isinstance(mapping, dict):
            names.update(str(name) for name in mapping.values() if name)
    names.update(allocation_recent_field_keys(workspace=workspace))
    if apps.is_installed("book"):
        names.update(_book_field_keys(workspace))
    return sorted(name for name in names if isinstance(name, str) and name)


def _book_field_keys(workspace) -> set[str]:
    try:
        account = apps.get_model("book", "Account")
    except LookupError:
        return set()
    if not any(f.name == "fields" for f in account._meta.get_fields()):
        return set()
    rows = account.objects.filter(workspace=workspace).order_by("-pk")[:500]
    return {key for fields in rows.values_list("fields", flat=True) if fields for key in fields}


@role_required("viewer")
def territory_builder(request, pk=None):
    """The territory page: every setting of API.md's `/territories/`, edited in the browser
    and saved through that API (one validation path for plays and people); read-only for
    viewers and for an archived plan."""
    territory = None
    if pk is not None:
        territory = workspace_object_or_404(
            request, Territory.objects.select_related("plan"), pk=pk
        )
        plan = territory.plan
    else:
        if ROLE_RANK.get(request.role, -1) < ROLE_RANK[Role.DIRECTOR]:
            raise PermissionDenied("adding a territory needs the director or admin role")
        plan_id = parse_id(request.GET.get("plan"), field="plan")
        plan = (
            workspace_object_or_404(request, TerritoryPlan, pk=plan_id)
            if plan_id is not None
            else selectors.plan_get_active(workspace=request.workspace)
        )
        if plan is None:
            raise Http404("no plan to add a territory to")
    editable = _plan_editable(request, plan)
    if territory is None and not editable:
        raise PermissionDenied(f"plan {plan.name} is archived: read-only")
    initial = TerritorySerializer(territory).data if territory else {"plan": plan.pk}
    siblings = list(
        workspace_rows(request, Territory)
        .filter(plan=plan)
        .exclude(pk=getattr(territory, "pk", None))
        .order_by("name")
        .values("id", "name")
    )
    named_ids = {slot["member"] for slot in initial.get("slots", [])}
    if initial.get("fallback_member"):
        named_ids.add(initial["fallback_member"])
    members = workspace_rows(request, Member).order_by("name")
    picker = list(members.filter(is_active=True).values("id", "name", "email")[:MEMBER_PICKER_SIZE])
    known = {m["id"] for m in picker}
    referenced = list(
        members.filter(pk__in=named_ids - known).values("id", "name", "email", "is_active")
    )
    context = {
        "territory": territory,
        "plan": plan,
        "editable": editable,
        "is_draft": plan.status == PlanStatus.DRAFT,
        "initial": initial,
        "kinds": TerritoryKind.choices,
        "distributions": Distribution.choices,
        "territories": siblings,
        "builder_config": {
            "operators": sorted(OPERATORS),
            "slot_roles": SlotRole.values,
            "members": picker + referenced,
            "fields": _field_suggestions(request.workspace),
            "member_keys": member_attribute_keys(workspace=request.workspace),
        },
        **_test_record_context(plan),
    }
    return render(request, "territories/builder.html", context)


MEMBER_RULE_FAILED = "member eligibility rule not met"


def _member_rule_failures(decided, territory_id, member_id, fields) -> list[str]:
    """Which conditions of the territory's eligibility rule this member failed, in words,
    read against the same attributes the engine judged (metadata, role, time zone)."""
    territory = decided.territories.get(territory_id)
    member = decided.members.get(member_id)
    if territory is None or member is None:
        return []
    attributes = {**member.metadata, "role": member.role, "timezone": member.timezone}
    return rule_failures(territory.member_rule, fields, attributes)


def _decision_view(request, decided, fields: dict) -> dict:
    """The dry-run decision for people: every step with the names of the members and
    territories it mentions (the trace stores ids), grouped as the page shows them."""
    decision = decided.decision
    member_ids = {decision.owner_id, *decision.overlays}
    territory_ids = {decision.territory_id}
    for step in decision.trace:
        member_ids.add(step.get("member"))
        territory_ids.add(step.get("territory"))
    member_names = dict(
        workspace_rows(request, Member)
        .filter(pk__in=[i for i in member_ids if isinstance(i, int)])
        .values_list("pk", "name")
    )
    territory_names = dict(
        workspace_rows(request, Territory)
        .filter(pk__in=[i for i in territory_ids if isinstance(i, int)])
        .values_list("pk", "name")
    )
    steps = []
    # Whose pool an eligibility step judges: the winner's, then each fallback territory's.
    pool_territory = next(
        (s.get("territory") for s in decision.trace if s.get("outcome") == "matched"), None
    )
    for step in decision.trace:
        row = dict(step)
        if step["step"] == "fallback" and step.get("outcome") == "followed":
            pool_territory = step.get("territory")
        if step.get("member") is not None:
            row["name"] = member_names.get(step["member"], f"member {step['member']}")
        elif step.get("territory") is not None:
            row["name"] = territory_names.get(step["territory"], f"territory {step['territory']}")
        if step["step"] == "eligibility" and step.get("detail", "").endswith(MEMBER_RULE_FAILED):
            row["why"] = _member_rule_failures(decided, pool_territory, step["member"], fields)
        steps.append(row)

    def of(*kinds):
        return [row for row in steps if row["step"] in kinds]

    return {
        "status": decision.status,
        "owner": member_names.get(decision.owner_id) if decision.owner_id else None,
        "territory": territory_names.get(decision.territory_id),
        "overlays": [member_names.get(m, f"member {m}") for m in decision.overlays],
        "resolution": of("lock", "named_account", "territory", "conflict"),
        "exclusions": of("eligibility"),
        "distribution": of("distribution"),
        "fallbacks": of("fallback", "unassigned"),
        "steps": steps,
    }


@role_required("viewer")
@require_POST
def territory_test_record(request):
    """ "Test a record": the decision the real engine would make for a pasted record, as a
    dry run (nothing written), under the chosen plan. HTMX swaps the answer in."""
    plan_id = parse_id(request.POST.get("plan"), field="plan")
    plan = (
        workspace_object_or_404(request, TerritoryPlan, pk=plan_id)
        if plan_id is not None
        else selectors.plan_get_active(workspace=request.workspace)
    )
    parsed = record_text_parse(request.POST.get("record", ""))
    record_type = parsed.record_type or request.POST.get("record_type") or RecordType.LEAD
    context = {"errors": parsed.errors, "plan": plan, "fields": parsed.fields}
    if record_type not in RecordType.values:
        context["type_error"] = f"unknown record type '{record_type}'"
    elif not parsed.errors:
        decided = allocation_dry_run(
            workspace=request.workspace, record_type=record_type, fields=parsed.fields, plan=plan
        )
        context["result"] = _decision_view(request, decided, parsed.fields)
    status = 400 if parsed.errors or "type_error" in context else 200
    return render(request, "territories/_test_result.html", context, status=status)
