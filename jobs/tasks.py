"""Thin Celery tasks over jobs.services; each is safe to receive twice."""

from celery import group, shared_task

from . import services


@shared_task(acks_late=True, reject_on_worker_lost=True, time_limit=300, soft_time_limit=280)
def job_start_task(*, job_id: int) -> int:
    """Plans the job, then spreads its chunks over the workers."""
    chunk_ids = services.job_start(job_id=job_id)
    if chunk_ids:
        group(chunk_run_task.si(chunk_id=chunk_id) for chunk_id in chunk_ids).apply_async()
    return len(chunk_ids)


@shared_task(acks_late=True, reject_on_worker_lost=True, time_limit=300, soft_time_limit=280)
def chunk_run_task(*, chunk_id: int) -> str:
    return services.chunk_run(chunk_id=chunk_id)


@shared_task(acks_late=True, time_limit=120)
def job_sweep_task() -> dict:
    """Periodic (beat): resumes what dead workers or a lost broker left behind."""
    return services.job_sweep()
