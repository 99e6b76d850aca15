"""Thin Celery tasks for allocation housekeeping."""

from celery import shared_task

from . import services


@shared_task(acks_late=True, time_limit=600, soft_time_limit=540)
def idempotency_purge() -> int:
    """Periodic (CELERY_BEAT_SCHEDULE): deletes idempotency rows past their 24 h."""
    return services.idempotency_purge()
