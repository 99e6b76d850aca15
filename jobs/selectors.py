"""Reads of jobs, always within one workspace."""

from django.db.models import QuerySet

from .models import ACTIVE_STATUSES, Job


def job_list(*, workspace) -> QuerySet[Job]:
    return Job.objects.filter(workspace=workspace)


def job_get(*, workspace, job_id: int) -> Job | None:
    return Job.objects.filter(workspace=workspace, pk=job_id).first()


def job_active_exists(*, workspace, handler: str, queued_only: bool = False) -> bool:
    """Whether a job of this handler is waiting (or running) in the workspace: debouncing."""
    statuses = ["queued"] if queued_only else list(ACTIVE_STATUSES)
    return Job.objects.filter(workspace=workspace, handler=handler, status__in=statuses).exists()
