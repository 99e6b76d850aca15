from celery import shared_task

from . import services


@shared_task(acks_late=True)
def execute_due_task() -> int:
    """Approved requests whose effective date has come (beat, every minute)."""
    return services.reassignment_requests_execute_due()
