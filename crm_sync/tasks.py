"""Thin Celery tasks: take ids, call services, retry transient CRM errors with backoff."""

import random

from celery import shared_task

from . import services
from .providers import TransientCrmError


@shared_task(
    bind=True,
    queue="crm",
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=8,
    time_limit=300,
    soft_time_limit=240,
)
def writeback_drain(self, *, workspace_id: int) -> dict:
    try:
        return services.writeback_drain_workspace(workspace_id=workspace_id)
    except TransientCrmError as exc:
        backoff = min(600, 2**self.request.retries) + random.uniform(0, 1)
        countdown = max(exc.retry_after or 0, backoff)
        raise self.retry(exc=exc, countdown=countdown) from None


@shared_task(queue="crm", acks_late=True, time_limit=60)
def writeback_sweep() -> int:
    """Periodic: re-queues drains for rows left pending."""
    workspace_ids = services.writeback_sweep()
    for workspace_id in workspace_ids:
        writeback_drain.delay(workspace_id=workspace_id)
    return len(workspace_ids)


@shared_task(queue="crm", acks_late=True, time_limit=3600, soft_time_limit=3500)
def sync_run(*, run_id: int, full: bool = False) -> dict:
    from .models import SyncRun
    from .sync import sync_execute

    run = SyncRun.objects.select_related("connection").filter(pk=run_id).first()
    if run is None or run.connection is None or run.status != "queued":
        return {}
    return sync_execute(run=run, full=full).counts


@shared_task(queue="crm", acks_late=True, time_limit=60)
def sync_scheduled(*, connection_id: int) -> int | None:
    """Periodic (django-celery-beat, one entry per connection): queue a sync run of the
    members, and an increment of the book once it has been imported."""
    from .book_sync import book_sync_scheduled
    from .models import CrmConnection

    connection = CrmConnection.objects.filter(pk=connection_id, is_active=True).first()
    if connection is None:
        return None
    book_sync_scheduled(connection=connection)
    return services.sync_start(connection=connection).pk
