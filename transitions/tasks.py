"""Thin periodic tasks (beat): scheduled activations that are due, overlaps that ended."""

from celery import shared_task

from . import services


@shared_task(acks_late=True, time_limit=300)
def activations_due_task() -> list[int]:
    return services.activations_due_run()


@shared_task(acks_late=True, time_limit=300)
def overlays_expire_task() -> int:
    return services.overlays_expire()
