from celery import shared_task

from . import services


@shared_task(acks_late=True)
def sla_sweep_task() -> dict:
    """One SLA tick (beat, every minute): clocks started, reminders, breaches acted on."""
    return services.sla_sweep()
