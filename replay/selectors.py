"""Reads of replay jobs and their moves, always within one workspace."""

from datetime import datetime

from django.db.models import QuerySet

from jobs.models import Job, JobKind

from .models import ReplayMove


def replay_job_list(*, workspace, plan=None) -> QuerySet[Job]:
    jobs = Job.objects.filter(workspace=workspace, kind=JobKind.REPLAY)
    if plan is not None:
        jobs = jobs.filter(params__plan=plan.pk)
    return jobs


def replay_window(job: Job) -> tuple[datetime | None, datetime | None]:
    """The window a replay job was asked for, as datetimes (None if the job has none)."""
    params = job.params or {}
    since, until = params.get("since"), params.get("until")
    return (
        datetime.fromisoformat(since) if since else None,
        datetime.fromisoformat(until) if until else None,
    )


def replay_move_list(*, job: Job) -> QuerySet[ReplayMove]:
    return ReplayMove.objects.filter(workspace_id=job.workspace_id, job=job).select_related(
        "actual_owner", "replayed_owner", "replayed_territory"
    )


MOVES_CSV_HEADER = [
    "allocation_id",
    "allocated_at",
    "record_type",
    "record_id",
    "actual_owner_id",
    "actual_owner",
    "replayed_owner_id",
    "replayed_owner",
    "replayed_territory",
    "replayed_status",
]


def replay_moves_csv_rows(*, job: Job):
    """The moves as CSV rows, streamed in sequence order."""
    for move in replay_move_list(job=job).iterator(chunk_size=2000):
        yield [
            move.allocation_id,
            move.allocated_at.isoformat(),
            move.record_type,
            move.record_id,
            move.actual_owner_id or "",
            move.actual_owner.name if move.actual_owner else "",
            move.replayed_owner_id or "",
            move.replayed_owner.name if move.replayed_owner else "",
            move.replayed_territory.name if move.replayed_territory else "",
            move.replayed_status,
        ]
