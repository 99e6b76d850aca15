"""Reads for notifications: endpoints, delivery logs, a user's preferences, and the weekly
exception report."""

from datetime import timedelta

from django.db.models import Count, QuerySet
from django.db.models.functions import TruncWeek
from django.utils import timezone

from allocation.models import Allocation, AllocationStatus
from book.models import Account, AccountStatus
from crm_sync.models import WritebackOutbox, WritebackStatus
from reassignments.selectors import override_list
from sla.models import SlaClock

from .events import EVENT_TYPES
from .models import NotificationPreference, WebhookDelivery, WebhookEndpoint
from .routing import DEFAULT_MODES

REPORT_LIST_LIMIT = 20
TREND_WEEKS = 8


def endpoint_list(*, workspace) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(workspace=workspace)


def delivery_list(*, endpoint) -> QuerySet[WebhookDelivery]:
    return WebhookDelivery.objects.filter(
        workspace_id=endpoint.workspace_id, endpoint=endpoint
    ).select_related("event")


def preferences_effective(*, workspace, user) -> list[dict]:
    """Every event type with the user's mode and whether it is the default."""
    stored = dict(
        NotificationPreference.objects.filter(workspace=workspace, user=user).values_list(
            "event_type", "mode"
        )
    )
    return [
        {
            "event_type": event_type,
            "mode": stored.get(event_type, DEFAULT_MODES[event_type]),
            "is_default": event_type not in stored,
        }
        for event_type in EVENT_TYPES
    ]


def exception_report(*, workspace, now=None) -> dict:
    """What went wrong in the week before `now`: the unassigned queue, SLA breaches, failed
    write-backs, ownership changes made around governance (reassignments.selectors), and
    orphaned accounts by the week they arrived."""
    now = now or timezone.now()
    since = now - timedelta(days=7)
    unassigned = Allocation.objects.filter(
        workspace=workspace, is_current=True, status=AllocationStatus.UNASSIGNED
    )
    failed = WritebackOutbox.objects.filter(
        workspace=workspace, status=WritebackStatus.FAILED
    ).select_related("allocation")
    overrides = override_list(workspace=workspace, since=since, until=now).order_by("-created_at")
    breaches = (
        SlaClock.objects.filter(workspace=workspace, breached_at__gte=since, breached_at__lt=now)
        .select_related("allocation", "owner")
        .order_by("-breached_at")
    )
    trend_since = now - timedelta(weeks=TREND_WEEKS)
    trend = list(
        Account.objects.filter(
            workspace=workspace, status=AccountStatus.ORPHANED, created_at__gte=trend_since
        )
        .annotate(week=TruncWeek("created_at"))
        .values("week")
        .annotate(accounts=Count("id"))
        .order_by("week")
    )
    return {
        "since": since,
        "until": now,
        "unassigned_count": unassigned.count(),
        "unassigned": list(unassigned.order_by("-created_at")[:REPORT_LIST_LIMIT]),
        "unassigned_new": unassigned.filter(created_at__gte=since).count(),
        "writebacks_failed_count": failed.count(),
        "writebacks_failed": list(failed.order_by("-updated_at")[:REPORT_LIST_LIMIT]),
        "overrides_count": overrides.count(),
        "overrides": list(overrides[:REPORT_LIST_LIMIT]),
        "breaches_count": breaches.count(),
        "breaches": list(breaches[:REPORT_LIST_LIMIT]),
        "orphaned_now": Account.objects.filter(
            workspace=workspace, status=AccountStatus.ORPHANED
        ).count(),
        "orphaned_trend": trend,
    }
