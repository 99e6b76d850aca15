"""Thin Celery tasks: drains, the sweeper, e-mails, the digest and the weekly report."""

from celery import shared_task

from . import services


@shared_task(acks_late=True, time_limit=300, soft_time_limit=240)
def webhook_drain() -> dict:
    """Delivers every due webhook; when retries wait, a drain is queued for the earliest."""
    totals = services.webhook_drain_all()
    if totals["retrying"] and totals["next_due_in"] is not None:
        webhook_drain.apply_async(countdown=max(0.5, totals["next_due_in"]))
    return totals


@shared_task(acks_late=True, time_limit=60)
def webhook_sweep() -> dict:
    """Periodic: fails deliveries past their window, queues a drain when some are due (the
    broker was down at commit time, or a worker died with a retry queued)."""
    result = services.webhook_sweep()
    if result["due"]:
        webhook_drain.delay()
    return result


@shared_task(acks_late=True, time_limit=120)
def email_send() -> int:
    return services.emails_send_immediate()


@shared_task(acks_late=True, time_limit=1800)
def digest_daily() -> int:
    return services.digest_send()


@shared_task(acks_late=True, time_limit=1800)
def exception_report_weekly() -> int:
    return services.exception_report_send()
