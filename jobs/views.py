"""Browser pages for jobs: the list, and one job with a progress bar that HTMX refreshes
every second while the job runs (no inline script: CSP-safe)."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from revorg.errors import ConflictError
from revorg.permissions import role_required
from revorg.services import actor_from_request
from revorg.tenancy import workspace_object_or_404

from . import selectors, services

JOBS_SHOWN = 100


@role_required("viewer")
def job_index(request):
    jobs = selectors.job_list(workspace=request.workspace)[:JOBS_SHOWN]
    return render(request, "jobs/index.html", {"jobs": jobs})


@role_required("viewer")
def job_detail(request, pk):
    job = workspace_object_or_404(request, selectors.job_list(workspace=request.workspace), pk=pk)
    template = "jobs/_job.html" if request.htmx else "jobs/job.html"
    return render(request, template, {"job": job})


@role_required("manager")
@require_POST
def job_cancel(request, pk):
    job = workspace_object_or_404(request, selectors.job_list(workspace=request.workspace), pk=pk)
    try:
        services.job_cancel(job=job, actor=actor_from_request(request))
        messages.success(request, "Job cancelled.")
    except ConflictError as exc:
        messages.error(request, exc.message)
    return redirect("ui:job", pk=pk)
