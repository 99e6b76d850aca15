"""The plan-comparison page: a plan (usually a draft) side by side with the active plan from
its latest whole-book simulation — balance scores, a chart of every rep's book before and
after, the biggest winners and losers, the territories, the moves (filtered by territory or
rep) — and the rebalancing suggestions with a form to accept them. While the simulation
runs, a progress card refreshes itself (HTMX) and reloads the page when the job ends."""

from django.contrib import messages
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from revorg.errors import ApplicationError
from revorg.parsing import parse_id
from revorg.permissions import role_required
from revorg.services import actor_from_request
from revorg.tenancy import workspace_object_or_404
from territories.models import PlanStatus, TerritoryPlan

from . import selectors, services

WINNERS_SHOWN = 5


def _filters(request, result) -> tuple[str, int | None]:
    names = {t["name"] for t in result.get("territories", [])}
    territory = request.GET.get("territory", "")
    territory = territory if territory in names else ""
    try:
        member = parse_id(request.GET.get("member"), field="member")
    except ApplicationError:
        member = None
    if member not in {m["id"] for m in result.get("members", [])}:
        member = None
    return territory, member


def _delta(member) -> int:
    return member["after"]["accounts"] - member["before"]["accounts"]


@role_required("viewer")
def plan_compare(request, pk):
    plan = workspace_object_or_404(request, TerritoryPlan, pk=pk)
    job = selectors.simulation_latest(plan=plan)
    if request.htmx and request.GET.get("progress"):
        if job is None or not job.is_active:
            response = render(request, "planning/_progress.html", {"plan": plan, "job": job})
            response["HX-Refresh"] = "true"
            return response
        return render(request, "planning/_progress.html", {"plan": plan, "job": job})
    context = {
        "plan": plan,
        "active": TerritoryPlan.objects.filter(
            workspace=request.workspace, status=PlanStatus.ACTIVE
        ).first(),
        "job": job,
        "may_simulate": request.role in ("manager", "director", "admin"),
        "may_accept": request.role == "admin" and plan.status != PlanStatus.ARCHIVED,
    }
    result = job.result if job is not None and job.status == "succeeded" else None
    if result and "members" in result:
        territory, member = _filters(request, result)
        members = result["members"]
        shown_members = [m for m in members if member is None or m["id"] == member]
        ranked = sorted(members, key=lambda m: (_delta(m), m["name"]))
        context.update(
            result=result,
            territory=territory,
            member=member,
            members=shown_members,
            territories=[
                t for t in result["territories"] if not territory or t["name"] == territory
            ],
            winners=[m for m in reversed(ranked) if _delta(m) > 0][:WINNERS_SHOWN],
            losers=[m for m in ranked if _delta(m) < 0][:WINNERS_SHOWN],
            moves=list(
                selectors.simulation_moves(
                    job=job,
                    territory=territory or None,
                    member_id=member,
                    limit=selectors.MOVES_SHOWN,
                )
            ),
            moves_shown=selectors.MOVES_SHOWN,
            chart={
                "labels": [m["name"] for m in shown_members],
                "before": [m["before"]["accounts"] for m in shown_members],
                "after": [m["after"]["accounts"] for m in shown_members],
            },
        )
    try:
        context["rebalance"] = selectors.rebalance_suggestions(plan=plan)
    except ApplicationError as exc:
        context["rebalance_error"] = exc.message
    return render(request, "planning/compare.html", context)


@role_required("manager")
@require_POST
def plan_simulate(request, pk):
    plan = workspace_object_or_404(request, TerritoryPlan, pk=pk)
    with transaction.atomic():
        services.simulation_start(plan=plan, actor_label=actor_from_request(request).label)
    messages.success(request, "Simulation started: the page follows its progress.")
    return redirect(reverse("ui:plan-compare", kwargs={"pk": plan.pk}))


@role_required("admin")
@require_POST
def plan_rebalance_accept(request, pk):
    plan = workspace_object_or_404(request, TerritoryPlan, pk=pk)
    chosen = [s for s in request.POST.getlist("suggestion") if s][:500]
    if not chosen:
        messages.error(request, "Select at least one suggestion.")
        return redirect(reverse("ui:plan-compare", kwargs={"pk": plan.pk}))
    try:
        result = services.rebalance_accept(
            plan=plan,
            suggestion_ids=chosen,
            actor=actor_from_request(request),
            reason="rebalancing (comparison page)",
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        if result["locks"]:
            done = f"{result['locks']} account lock(s) created"
        else:
            done = f"{result['named_accounts']} named account(s) added to the draft"
        messages.success(request, f"{len(result['accepted'])} suggestion(s) accepted: {done}.")
    return redirect(reverse("ui:plan-compare", kwargs={"pk": plan.pk}))
