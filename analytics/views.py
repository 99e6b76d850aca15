"""The comparison page: territories or reps side by side for a period, a table and charts."""

from urllib.parse import urlencode

from django.shortcuts import render
from django.utils import timezone

from revorg.parsing import BadParameter, parse_id, parse_int
from revorg.permissions import role_required
from revorg.tenancy import workspace_rows
from territories.models import Territory, TerritoryKind, TerritoryPlan
from territories.selectors import plan_get_active

from . import selectors
from .periods import period_choices, period_parse

MAX_PICKED = 200


def _picked_ids(request) -> list[int]:
    ids = [parse_id(value, field="territory") for value in request.GET.getlist("territory")]
    return [i for i in ids[:MAX_PICKED] if i is not None]


@role_required("viewer")
def compare(request):
    """GET only: the form is the query string, so a comparison is a link one can share."""
    workspace = request.workspace
    today = timezone.localdate()
    period = period_parse(
        start_text=request.GET.get("period_start"),
        end_text=request.GET.get("period_end"),
        fiscal_start_month=workspace.fiscal_year_start_month,
        today=today,
    )
    view = request.GET.get("view") or "territories"
    if view not in ("territories", "members"):
        raise BadParameter("View must be territories or members.", field="view")
    kind = request.GET.get("kind") or ""
    if kind and kind not in TerritoryKind.values:
        raise BadParameter(f"Kind must be one of {', '.join(TerritoryKind.values)}.", field="kind")
    level = parse_int(request.GET.get("level"), field="level", minimum=0, maximum=100)
    plan_id = parse_id(request.GET.get("plan"), field="plan")
    plan = (
        workspace_rows(request, TerritoryPlan).filter(pk=plan_id).first()
        if plan_id is not None
        else plan_get_active(workspace=workspace)
    )
    if plan is None and plan_id is not None:
        raise BadParameter("Plan: no such plan in this workspace.", field="plan")
    picked = set(_picked_ids(request))
    rows = []
    if view == "territories" and plan is not None:
        rows = selectors.territory_performance(
            workspace=workspace, plan=plan, period=period, kind=kind or None, level=level
        )
        if picked:
            rows = [row for row in rows if row["territory"]["id"] in picked]
    elif view == "members":
        rows = selectors.member_performance(
            workspace=workspace, plan=plan, period=period, kind=kind or None, level=level
        )
    for row in rows:
        row["label"] = (row.get("territory") or row.get("member"))["name"]
    query = {
        "period_start": period.start.isoformat(),
        "period_end": period.end.isoformat(),
        "format": "csv",
    }
    if kind:
        query["kind"] = kind
    if level is not None:
        query["level"] = level
    if plan is not None:
        query["plan"] = plan.pk
    choices = period_choices(fiscal_start_month=workspace.fiscal_year_start_month, today=today)
    chart_rows = rows[:40]
    context = {
        "period": period,
        "periods": [
            {
                "label": choice.label,
                "start": choice.start.isoformat(),
                "end": choice.end.isoformat(),
                "selected": (choice.start, choice.end) == (period.start, period.end),
            }
            for choice in choices
        ],
        "view": view,
        "kind": kind,
        "kinds": TerritoryKind.choices,
        "level": "" if level is None else level,
        "plan": plan,
        "plans": workspace_rows(request, TerritoryPlan).order_by("-id")[:50],
        "territories": (
            workspace_rows(request, Territory).filter(plan=plan).order_by("name", "id")[:500]
            if plan is not None
            else []
        ),
        "picked": picked,
        "rows": rows,
        "chart": {
            "labels": [row["label"] for row in chart_rows],
            "quota": [row["quota"] for row in chart_rows],
            "won": [row["won_amount"] for row in chart_rows],
            "pipeline": [row["open_pipeline"] for row in chart_rows],
            "attainment": [row["attainment"] for row in chart_rows],
            "win_rate": [row["win_rate"] for row in chart_rows],
        },
        "csv_url": f"/api/v1/analytics/{view}/?{urlencode(query)}",
        "balance": selectors.balance_score(plan=plan) if plan is not None else None,
    }
    return render(request, "analytics/compare.html", context)


def dashboard_cards(*, workspace) -> dict:
    """The dashboard's attainment (top-level territories this fiscal quarter) and balance
    score (accounts per primary rep of the active plan) cards."""
    plan = plan_get_active(workspace=workspace)
    period = period_parse(
        start_text="",
        end_text="",
        fiscal_start_month=workspace.fiscal_year_start_month,
        today=timezone.localdate(),
    )
    if plan is None:
        return {"period": period, "attainment": None, "won": 0, "quota": None, "balance": None}
    rows = selectors.territory_performance(workspace=workspace, plan=plan, period=period, level=0)
    quotas = [row["quota"] for row in rows if row["quota"] is not None]
    won = sum(row["won_amount"] for row in rows)
    quota = sum(quotas) if quotas else None
    return {
        "period": period,
        "won": won,
        "quota": quota,
        "attainment": round(won * 100 / quota, 1) if quota else None,
        "balance": selectors.balance_score(plan=plan),
    }
