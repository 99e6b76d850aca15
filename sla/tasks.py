from celery import shared_task
from django.utils.dateparse import parse_datetime

from . import services


@shared_task(acks_late=True)
def sla_sweep_task() -> dict:
    """One SLA tick (beat, every minute): clocks started, reminders, breaches dispatched."""
    return services.sla_sweep()


@shared_task(acks_late=True)
def breach_chunk_task(clock_ids: list[int], now: str) -> dict:
    """A tick's breaches, a chunk at a time (idempotent: a clock acted on is skipped)."""
    return services.breach_chunk_handle(clock_ids=clock_ids, now=parse_datetime(now))
