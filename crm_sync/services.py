"""Writes for CRM sync and write-back."""

import json
import logging

import kombu.exceptions
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from .crypto import credentials_encrypt
from .models import CrmConnection, SyncKind, SyncRun, WritebackOutbox, WritebackStatus
from .providers import CrmError, OwnerUpdate, TransientCrmError, provider_for

logger = logging.getLogger(__name__)


def writeback_enqueue(
    *, allocation, provider: str, record_type: str, record_id: str, owner_crm_user_id: str
) -> WritebackOutbox:
    """Call inside the allocation's transaction. Older pending rows of the same record are
    superseded, so a record reassigned before its write-back ran writes only the latest owner.
    The drain is queued when the transaction commits."""
    WritebackOutbox.objects.filter(
        workspace_id=allocation.workspace_id,
        provider=provider,
        record_type=record_type,
        record_id=record_id,
        status=WritebackStatus.PENDING,
    ).update(status=WritebackStatus.SUPERSEDED)
    row = WritebackOutbox.objects.create(
        workspace_id=allocation.workspace_id,
        allocation=allocation,
        provider=provider,
        record_type=record_type,
        record_id=record_id,
        owner_crm_user_id=owner_crm_user_id,
    )
    writeback_schedule(workspace_id=allocation.workspace_id)
    return row


def writeback_schedule(*, workspace_id: int) -> None:
    """Queues a drain once the allocation's transaction commits. If the broker is down the
    rows stay pending and the periodic sweeper delivers them."""

    from .tasks import writeback_drain

    transaction.on_commit(
        lambda: _enqueue(
            writeback_drain,
            what=f"write-back drain of workspace {workspace_id}",
            workspace_id=workspace_id,
        )
    )


def _enqueue(task, *, what: str, **kwargs) -> None:
    """Publishes a task after commit. A broker that cannot be reached is expected (the
    sweeper or the queued run shows it later); anything else — in demo mode, where tasks run
    eagerly, an exception raised by the task itself — is logged as what it is, with its
    traceback."""
    try:
        task.delay(**kwargs)
    except kombu.exceptions.OperationalError as exc:
        logger.warning("%s not queued: broker unreachable (%s)", what, type(exc).__name__)
    except Exception:
        logger.exception("%s failed", what)


def writeback_drain_workspace(*, workspace_id: int, batch_size: int = 1000) -> dict:
    """Writes pending owners of one workspace, batch by batch, marking each row succeeded or
    failed with the CRM's error text. Transient errors propagate (TransientCrmError) so the
    task retries with backoff; rows already written stay written."""

    totals = {"succeeded": 0, "failed": 0, "calls": 0}
    connections = {
        c.provider: c
        for c in CrmConnection.objects.filter(workspace_id=workspace_id, is_active=True)
    }
    while True:
        with transaction.atomic():
            rows = list(
                WritebackOutbox.objects.select_for_update(skip_locked=True).filter(
                    workspace_id=workspace_id,
                    status=WritebackStatus.PENDING,
                    provider__in=list(connections),
                )[:batch_size]
            )
            if not rows:
                return totals
            by_provider: dict[str, list] = {}
            for row in rows:
                by_provider.setdefault(row.provider, []).append(row)
            now = timezone.now()
            for provider_name, provider_rows in by_provider.items():
                provider = provider_for(connection=connections[provider_name])
                updates = [
                    OwnerUpdate(r.id, r.record_type, r.record_id, r.owner_crm_user_id)
                    for r in provider_rows
                ]
                try:
                    results = provider.owners_update(updates=updates)
                finally:
                    totals["calls"] += provider.calls
                # One UPDATE per distinct outcome: far cheaper than a per-row CASE update.
                by_error: dict[str, list[int]] = {}
                for row in provider_rows:
                    by_error.setdefault(results.get(row.id, "no result from CRM"), []).append(
                        row.id
                    )
                for error, ids in by_error.items():
                    WritebackOutbox.objects.filter(id__in=ids).update(
                        status=WritebackStatus.FAILED if error else WritebackStatus.SUCCEEDED,
                        last_error=error,
                        attempts=F("attempts") + 1,
                        updated_at=now,
                    )
                    totals["failed" if error else "succeeded"] += len(ids)


def writeback_sweep() -> list[int]:
    """Workspaces with pending rows (e.g. the broker was down at commit time); the sweeper
    task queues one drain for each."""
    return list(
        WritebackOutbox.objects.filter(status=WritebackStatus.PENDING)
        .order_by("workspace_id")
        .values_list("workspace_id", flat=True)
        .distinct()
    )


# --- connections ----------------------------------------------------------------------------
DEFAULT_SYNC_MINUTES = 60


def connection_create(*, workspace, provider, name, settings, credentials):
    """Credentials are encrypted before they touch the database; a periodic sync is
    scheduled for the connection."""

    connection = CrmConnection.objects.create(
        workspace=workspace,
        provider=provider,
        name=name,
        settings=settings,
        credentials_encrypted=credentials_encrypt(credentials=credentials),
    )
    schedule_sync(connection=connection)
    return connection


def connection_update(*, connection, credentials=None, **fields):
    """`credentials` replace the stored ones only when given (the API never shows them)."""

    for name, value in fields.items():
        setattr(connection, name, value)
    if credentials is not None:
        connection.credentials_encrypted = credentials_encrypt(credentials=credentials)
    connection.save()
    schedule_sync(connection=connection)
    return connection


def connection_delete(*, connection) -> None:
    PeriodicTask.objects.filter(name=_schedule_name(connection)).delete()
    connection.delete()


def connection_test(*, connection) -> dict:
    """One cheap authenticated call; never raises for a CRM that is down or refuses."""

    try:
        return {"ok": True, "detail": provider_for(connection=connection).test()}
    except (CrmError, TransientCrmError) as exc:
        return {"ok": False, "detail": str(exc)}


def _schedule_name(connection) -> str:
    return f"crm-sync-connection-{connection.pk}"


def schedule_sync(*, connection) -> None:
    """A django-celery-beat entry per connection; its interval is the connection's
    `sync_interval_minutes` setting (default 60) and it is disabled with the connection."""

    minutes = int(connection.settings.get("sync_interval_minutes") or DEFAULT_SYNC_MINUTES)
    interval, _ = IntervalSchedule.objects.get_or_create(
        every=minutes, period=IntervalSchedule.MINUTES
    )
    PeriodicTask.objects.update_or_create(
        name=_schedule_name(connection),
        defaults={
            "task": "crm_sync.tasks.sync_scheduled",
            "interval": interval,
            "kwargs": json.dumps({"connection_id": connection.pk}),
            "queue": "crm",
            "enabled": connection.is_active,
        },
    )


def sync_start(*, connection, full: bool = False):
    """A queued run, executed by a worker once this transaction commits (inline when tasks
    run eagerly). A broker outage leaves the run queued, visible in the log."""

    from .tasks import sync_run

    run = SyncRun.objects.create(
        workspace_id=connection.workspace_id, connection=connection, kind=SyncKind.SYNC
    )

    transaction.on_commit(
        lambda: _enqueue(sync_run, what=f"sync run {run.pk}", run_id=run.pk, full=full)
    )
    return run
