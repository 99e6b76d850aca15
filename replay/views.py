"""Browser pages of replay: the window form with the plan's past replays, and one replay's
progress (HTMX-polled while it runs) then its per-rep table, chart and moves."""

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render

from revorg.csv_io import csv_response
from revorg.permissions import role_required
from revorg.services import actor_from_request
from revorg.tenancy import workspace_object_or_404
from territories.models import TerritoryPlan

from . import selectors, services
from .api.serializers import ReplayRequestSerializer

MOVES_PAGE_SIZE = 50
REPLAYS_SHOWN = 20


def _replay_job(request, plan, job_pk):
    return workspace_object_or_404(
        request, selectors.replay_job_list(workspace=request.workspace, plan=plan), pk=job_pk
    )


@role_required("viewer")
def plan_replay(request, pk):
    """GET: the form and the plan's replays; POST (manager): start a replay."""
    plan = workspace_object_or_404(request, TerritoryPlan, pk=pk)
    errors, form = {}, {}
    if request.method == "POST":
        if request.role not in ("manager", "director", "admin"):
            return HttpResponse("Replaying needs the manager role.", status=403)
        form = request.POST
        serializer = ReplayRequestSerializer(data=request.POST)
        if serializer.is_valid():
            job = services.replay_start(
                plan=plan,
                since=serializer.validated_data["since"],
                until=serializer.validated_data["until"],
                actor_label=actor_from_request(request).label,
            )
            return redirect("ui:plan-replay-result", pk=plan.pk, job_pk=job.pk)
        errors = {key: " ".join(map(str, value)) for key, value in serializer.errors.items()}
    replays = list(
        selectors.replay_job_list(workspace=request.workspace, plan=plan)[:REPLAYS_SHOWN]
    )
    for job in replays:
        job.since, job.until = selectors.replay_window(job)
    return render(
        request,
        "replay/form.html",
        {"plan": plan, "replays": replays, "errors": errors, "form": form},
        status=400 if errors else 200,
    )


@role_required("viewer")
def plan_replay_result(request, pk, job_pk):
    plan = workspace_object_or_404(request, TerritoryPlan, pk=pk)
    job = _replay_job(request, plan, job_pk)
    if request.htmx:
        response = render(request, "replay/_progress.html", {"plan": plan, "job": job})
        if not job.is_active:
            response["HX-Refresh"] = "true"  # the finished page draws its chart on load
        return response
    since, until = selectors.replay_window(job)
    context = {"plan": plan, "job": job, "since": since, "until": until}
    if job.status == "succeeded":
        moves = selectors.replay_move_list(job=job)
        context["moves"] = Paginator(moves, MOVES_PAGE_SIZE).get_page(request.GET.get("page"))
        context["chart"] = {
            "labels": [m["name"] for m in job.result.get("members", [])],
            "actual": [m["actual"] for m in job.result.get("members", [])],
            "replayed": [m["replayed"] for m in job.result.get("members", [])],
        }
    return render(request, "replay/result.html", context)


@role_required("viewer")
def plan_replay_moves_csv(request, pk, job_pk):
    plan = workspace_object_or_404(request, TerritoryPlan, pk=pk)
    job = _replay_job(request, plan, job_pk)
    return csv_response(
        filename=f"replay-{job.pk}-moves.csv",
        header=selectors.MOVES_CSV_HEADER,
        rows=selectors.replay_moves_csv_rows(job=job),
    )
