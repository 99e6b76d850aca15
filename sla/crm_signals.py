"""Acceptance seen by the CRM sync (DESIGN §9): per connection, `settings.acceptance_signal`
says what counts as the owner taking a lead or contact — `status_change` (its status differs
from the one it had when allocated: the record's `status` field, else the first status the
sync saw) or `first_activity` (an activity logged since the allocation)."""

from datetime import UTC, datetime

from django.utils import timezone

from allocation.models import Allocation
from revorg.errors import ApplicationError
from revorg.services import SystemActor

from .models import AcceptedVia, SlaClock
from .services import allocation_accept

MAX_RECORDS_PER_SYNC = 2000


def _activity_after(value: str, started_at) -> bool:
    """Salesforce's LastActivityDate is a date, HubSpot's a date-time: a same-day activity
    counts for a date."""
    if not value:
        return False
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    if len(value) == 10:  # a date
        return moment.date() >= started_at.date()
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=UTC)
    return moment >= started_at


def crm_acceptance_check(sender, *, connection, provider, **kwargs) -> dict:
    """Accepts the open clocks of this connection's records that the CRM shows handled."""
    signal = (connection.settings or {}).get("acceptance_signal", "none")
    if signal not in ("status_change", "first_activity"):
        return {}
    clocks = list(
        SlaClock.objects.filter(
            workspace_id=connection.workspace_id,
            accepted_at__isnull=True,
            breached_at__isnull=True,
            closed_at__isnull=True,
            allocation__is_current=True,
            allocation__record_crm=connection.provider,
            allocation__record_type__in=("lead", "contact"),
        )
        .exclude(allocation__record_id="")
        .select_related("allocation")
        .order_by("due_at")[:MAX_RECORDS_PER_SYNC]
    )
    accepted = 0
    actor = SystemActor(name=f"CRM sync ({connection.name})")
    for record_type in ("lead", "contact"):
        mine = [c for c in clocks if c.allocation.record_type == record_type]
        if not mine:
            continue
        signals = provider.record_signals(
            record_type=record_type, record_ids=[c.allocation.record_id for c in mine]
        )
        for clock in mine:
            seen = signals.get(clock.allocation.record_id)
            if seen is None:
                continue
            if signal == "first_activity":
                handled = _activity_after(seen.last_activity, clock.started_at)
            else:
                initial = str((clock.allocation.record_fields or {}).get("status") or "")
                initial = initial or clock.crm_initial_status
                if not initial:
                    SlaClock.objects.filter(pk=clock.pk).update(crm_initial_status=seen.status)
                    continue
                handled = seen.status.strip().lower() != initial.strip().lower()
            if not handled:
                continue
            try:
                allocation_accept(
                    workspace=connection.workspace,
                    actor=actor,
                    allocation=Allocation(pk=clock.allocation_id),
                    via=AcceptedVia.CRM,
                )
            except ApplicationError:
                continue  # moved on meanwhile (the sweep, a person): nothing to accept
            accepted += 1
    return {"accepted": accepted}
