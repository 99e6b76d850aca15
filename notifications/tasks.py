"""Thin Celery tasks: drains, the sweeper, e-mails, the digest and the weekly report."""

import time

from celery import shared_task
from django.core.cache import cache

from . import services

# One delayed drain for the earliest retry (a drain that fails N rows does not queue N):
# the cache holds its due time; an earlier retry replaces the plan, later ones ride on it.
FOLLOW_UP_KEY = "notifications:webhook-drain-follow-up"
# Retries further away are left to the beat sweeper (every minute).
FOLLOW_UP_HORIZON_SECONDS = 300
# Rows failed in one batch fall due milliseconds apart: one drain a moment later takes all.
FOLLOW_UP_SLACK_SECONDS = 0.5


def _follow_up(next_due_in: float | None) -> None:
    if next_due_in is None or next_due_in > FOLLOW_UP_HORIZON_SECONDS:
        return
    countdown = next_due_in + FOLLOW_UP_SLACK_SECONDS
    due = time.time() + countdown
    planned = cache.get(FOLLOW_UP_KEY)
    if planned is not None and planned <= due + FOLLOW_UP_SLACK_SECONDS:
        return
    cache.set(FOLLOW_UP_KEY, due, timeout=int(countdown) + 5)
    webhook_drain.apply_async(kwargs={"planned": due}, countdown=countdown)


@shared_task(acks_late=True, time_limit=300, soft_time_limit=240)
def webhook_drain(planned: float | None = None) -> dict:
    """Delivers every due webhook; when retries wait, a drain is planned for the earliest."""
    if planned is not None and cache.get(FOLLOW_UP_KEY) == planned:
        cache.delete(FOLLOW_UP_KEY)
    totals = services.webhook_drain_all()
    _follow_up(totals["next_due_in"])
    return totals


@shared_task(acks_late=True, time_limit=60)
def webhook_sweep() -> dict:
    """Periodic: fails deliveries past their window, queues a drain when some are due (the
    broker was down at commit time, or a worker died with a retry planned)."""
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
