"""Browser pages for territories: plan picker, hierarchy tree, and the visual rule builder.

The builder posts to the territories REST API with the session (one validation path for
plays and people); plan activation and cloning call the services directly.
"""

from django.contrib import messages
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from members.models import Member
from revorg.errors import ApplicationError
from revorg.parsing import parse_id
from revorg.permissions import role_required
from revorg.services import actor_from_request
from revorg.tenancy import workspace_rows
from territories import selectors, services
from territories.api.serializers import TerritorySerializer
from territories.models import PlanStatus, SlotRole, Territory, TerritoryPlan
from territories.rules import OPERATORS


def _plan_or_404(request, pk):
    plan = workspace_rows(request, TerritoryPlan).filter(pk=pk).first()
    if plan is None:
        raise Http404("no such plan")
    return plan


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


@role_required("viewer")
def territory_index(request):
    plans = list(selectors.plan_list(workspace=request.workspace))
    plan_id = parse_id(request.GET.get("plan"), field="plan")
    plan = next((p for p in plans if p.pk == plan_id), None)
    plan = plan or selectors.plan_get_active(workspace=request.workspace) or next(iter(plans), None)
    territories = (
        list(selectors.territory_list(workspace=request.workspace, plan=plan).order_by("name"))
        if plan
        else []
    )
    context = {"plans": plans, "plan": plan, "tree": _tree(territories), "count": len(territories)}
    return render(request, "territories/index.html", context)


@role_required("admin")
@require_POST
def plan_activate(request, pk):
    plan = _plan_or_404(request, pk)
    if request.POST.get("confirm") != plan.name:
        messages.error(request, "Type the plan's name to confirm activation.")
        return redirect(f"/territories/?plan={plan.pk}")
    try:
        with transaction.atomic():
            services.plan_activate(plan=plan, actor=actor_from_request(request))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{plan.name} is now the active plan.")
    return redirect(f"/territories/?plan={plan.pk}")


@role_required("admin")
@require_POST
def plan_clone(request, pk):
    plan = _plan_or_404(request, pk)
    name = request.POST.get("name", "").strip()[:200] or None
    with transaction.atomic():
        clone = services.plan_clone(plan=plan, name=name, actor=actor_from_request(request))
    messages.success(request, f"Draft {clone.name} created.")
    return redirect(f"/territories/?plan={clone.pk}")


@role_required("admin")
def territory_builder(request, pk=None):
    territory = None
    if pk is not None:
        territory = workspace_rows(request, Territory).filter(pk=pk).first()
        if territory is None:
            raise Http404("no such territory")
        plan = territory.plan
    else:
        plan_id = parse_id(request.GET.get("plan"), field="plan")
        plan = _plan_or_404(request, plan_id) if plan_id is not None else None
        plan = plan or selectors.plan_get_active(workspace=request.workspace)
    if plan is None:
        raise Http404("no plan to add a territory to")
    initial = TerritorySerializer(territory).data if territory else {"plan": plan.pk}
    context = {
        "territory": territory,
        "plan": plan,
        "initial": initial,
        "operators": sorted(OPERATORS),
        "members": list(
            workspace_rows(request, Member)
            .filter(is_active=True)
            .order_by("name")
            .values("id", "name")[:500]
        ),
        "slot_roles": SlotRole.values,
        "parents": workspace_rows(request, Territory)
        .filter(plan=plan)
        .exclude(pk=getattr(territory, "pk", None))
        .order_by("name"),
        "is_draft": plan.status == PlanStatus.DRAFT,
    }
    return render(request, "territories/builder.html", context)
