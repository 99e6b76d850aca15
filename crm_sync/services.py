"""Writes for CRM sync and write-back."""

import json
import logging
from datetime import timedelta

import kombu.exceptions
from cryptography.fernet import InvalidToken
from django.db import transaction
from django.db.models import Case, Exists, F, OuterRef, Q, Value, When
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from notifications.events import publish

from .crypto import credentials_encrypt
from .models import CrmConnection, SyncKind, SyncRun, WritebackOutbox, WritebackStatus
from .providers import CrmAuthError, CrmError, OwnerUpdate, TransientCrmError, provider_for

logger = logging.getLogger(__name__)

# Longer than the drain task's hard time limit (300 s): a drain still running never loses its
# rows to another, and a crashed one gives them back once the lease runs out.
WRITEBACK_LEASE = timedelta(seconds=360)
# Rows of one record that a newer row replaced: only the newest is ever written.
_REPLACED = (WritebackStatus.PENDING, WritebackStatus.FAILED)


def _same_record():
    return WritebackOutbox.objects.filter(
        workspace_id=OuterRef("workspace_id"),
        provider=OuterRef("provider"),
        record_type=OuterRef("record_type"),
        record_id=OuterRef("record_id"),
    )


def _stale():
    """Rows that are no longer the record's current owner: a newer row exists for the same
    record, or their allocation is no longer the record's current entry (e.g. reassigned to
    someone with no CRM user)."""
    return Q(allocation__is_current=False) | Q(Exists(_same_record().filter(id__gt=OuterRef("id"))))


def writeback_enqueue(
    *, allocation, provider: str, record_type: str, record_id: str, owner_crm_user_id: str
) -> WritebackOutbox:
    """Call inside the allocation's transaction. Older rows of the same record still waiting
    (pending) or waiting for a retry (failed) are superseded, so only the latest owner is
    ever written. The drain starts when the transaction commits."""
    WritebackOutbox.objects.filter(
        workspace_id=allocation.workspace_id,
        provider=provider,
        record_type=record_type,
        record_id=record_id,
        status__in=_REPLACED,
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
    """Starts a drain once the current transaction commits, never inside it: with a broker a
    worker runs it (if the broker is down the rows stay pending and the sweeper delivers
    them); in demo mode (tasks eager, no broker) the process's background drainer does, so
    the request that allocated never waits for the CRM."""
    from . import background
    from .tasks import writeback_drain

    def _drain_soon():
        if writeback_drain.app.conf.task_always_eager:
            background.writeback_drainer.kick()
        else:
            _enqueue(
                writeback_drain,
                what=f"write-back drain of workspace {workspace_id}",
                workspace_id=workspace_id,
            )

    transaction.on_commit(_drain_soon)


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
    """Writes the pending owners of one workspace, batch by batch, holding no lock while the
    CRM answers: each batch is claimed (FOR UPDATE SKIP LOCKED, then a lease) in a short
    transaction, sent outside any transaction, and its outcomes recorded in another. Two
    drains never send the same row; allocations never wait for the CRM.

    A refused row is failed with our words; refused credentials leave the rows pending and
    mark the connection `needs_reauth`; transient errors propagate (TransientCrmError) so the
    task retries with backoff, the rows given back first."""

    totals = {"succeeded": 0, "failed": 0, "calls": 0}
    connections = {
        c.provider: c
        for c in CrmConnection.objects.filter(
            workspace_id=workspace_id, is_active=True, needs_reauth=False
        )
    }
    providers: dict = {}  # one per CRM for the whole drain: its session is reused
    while connections:
        lease, rows, more = _writeback_claim(
            workspace_id=workspace_id, providers=list(connections), limit=batch_size
        )
        if not more:
            return totals
        unsettled = {row.id for row in rows}  # empty when the whole batch was stale
        try:
            by_provider: dict[str, list] = {}
            for row in rows:
                by_provider.setdefault(row.provider, []).append(row)
            for provider_name, provider_rows in by_provider.items():
                connection = connections[provider_name]
                provider = providers.get(provider_name)
                if provider is None:
                    provider = providers[provider_name] = provider_for(connection=connection)
                calls_before = provider.calls
                try:
                    results = provider.owners_update(
                        updates=[
                            OwnerUpdate(r.id, r.record_type, r.record_id, r.owner_crm_user_id)
                            for r in provider_rows
                        ]
                    )
                except CrmAuthError as exc:
                    connection_needs_reauth(connection=connection, reason=str(exc))
                    connections.pop(provider_name)
                    ids = [r.id for r in provider_rows]
                    _writeback_release(ids=ids, lease=lease, error=str(exc))
                    unsettled.difference_update(ids)
                    continue
                except TransientCrmError as exc:
                    _writeback_release(ids=list(unsettled), lease=lease, error=str(exc))
                    unsettled.clear()
                    raise
                finally:
                    totals["calls"] += provider.calls - calls_before
                for outcome, count in _writeback_record(
                    results=results, ids=[r.id for r in provider_rows], lease=lease
                ).items():
                    totals[outcome] += count
                unsettled.difference_update(r.id for r in provider_rows)
        finally:
            if unsettled:  # an unexpected error: give the rows back rather than wait out the lease
                _writeback_release(ids=list(unsettled), lease=lease, error="")
    return totals


def _writeback_claim(*, workspace_id: int, providers: list[str], limit: int):
    """(lease, rows, more): up to `limit` pending rows nobody else holds, each the current
    owner of its record with no other row of the record in flight, leased until `lease`;
    `more` is False once no pending row is left to look at. Stale rows met on the way are
    superseded. Committed before returning: no lock is held while the CRM is called."""
    now = timezone.now()
    lease = now + WRITEBACK_LEASE
    with transaction.atomic():
        # Records being written by some drain (a small partial index): their next owner
        # waits, so owners reach the CRM in the order they were decided.
        in_flight = set(
            WritebackOutbox.objects.filter(
                workspace_id=workspace_id, claimed_until__gt=now
            ).values_list("record_id", flat=True)
        )
        candidates = list(
            WritebackOutbox.objects.filter(
                Q(claimed_until__isnull=True) | Q(claimed_until__lte=now),
                workspace_id=workspace_id,
                status=WritebackStatus.PENDING,
                provider__in=providers,
            )
            .exclude(record_id__in=in_flight)
            .annotate(
                replaced=Exists(_same_record().filter(id__gt=OuterRef("id"))),
                is_current=F("allocation__is_current"),
            )
            .select_for_update(skip_locked=True, of=("self",))
            .order_by("id")[:limit]
        )
        stale = [r.id for r in candidates if r.replaced or not r.is_current]
        if stale:
            WritebackOutbox.objects.filter(id__in=stale).update(
                status=WritebackStatus.SUPERSEDED, updated_at=now
            )
        rows = [r for r in candidates if not (r.replaced or not r.is_current)]
        if rows:
            WritebackOutbox.objects.filter(id__in=[r.id for r in rows]).update(claimed_until=lease)
    return lease, rows, bool(candidates)


def _writeback_record(*, results: dict[int, str], ids: list[int], lease) -> dict[str, int]:
    """One UPDATE per distinct outcome (far cheaper than a per-row CASE), only on rows this
    drain still holds. A row superseded while in flight keeps `superseded`."""
    now = timezone.now()
    by_error: dict[str, list[int]] = {}
    for row_id in ids:
        by_error.setdefault(results.get(row_id, "no result from the CRM"), []).append(row_id)
    counts = {"succeeded": 0, "failed": 0}
    for error, error_ids in by_error.items():
        outcome = WritebackStatus.FAILED if error else WritebackStatus.SUCCEEDED
        with transaction.atomic():
            failing = (
                list(
                    WritebackOutbox.objects.filter(
                        id__in=error_ids, claimed_until=lease, status=WritebackStatus.PENDING
                    ).select_related("workspace")
                )
                if error
                else []
            )
            counts[outcome] += WritebackOutbox.objects.filter(
                id__in=error_ids, claimed_until=lease
            ).update(
                status=Case(
                    When(status=WritebackStatus.PENDING, then=Value(outcome)),
                    default=F("status"),
                ),
                last_error=error,
                attempts=F("attempts") + 1,
                claimed_until=None,
                updated_at=now,
            )
            for row in failing:  # announced with the status, in the same transaction
                publish(
                    workspace=row.workspace,
                    event_type="writeback.failed",
                    data={
                        "allocation": row.allocation_id,
                        "provider": row.provider,
                        "record_type": row.record_type,
                        "record_id": row.record_id,
                        "owner_crm_user_id": row.owner_crm_user_id,
                        "error": error,
                        "attempts": row.attempts + 1,
                    },
                )
    return counts


def _writeback_release(*, ids: list[int], lease, error: str) -> None:
    """Rows this drain holds go back to pending, claimable at once."""
    changes = {"claimed_until": None, "updated_at": timezone.now()}
    if error:
        changes.update(last_error=error, attempts=F("attempts") + 1)
    WritebackOutbox.objects.filter(id__in=ids, claimed_until=lease).update(**changes)


def writeback_sweep() -> list[int]:
    """Workspaces with pending rows that a usable connection can deliver (e.g. the broker
    was down at commit time, or a transient error outlived the task's retries); the sweeper
    queues one drain for each. Connections that need reauthentication are skipped."""
    usable = CrmConnection.objects.filter(
        workspace_id=OuterRef("workspace_id"),
        provider=OuterRef("provider"),
        is_active=True,
        needs_reauth=False,
    )
    return list(
        WritebackOutbox.objects.filter(status=WritebackStatus.PENDING)
        .filter(Exists(usable))
        .order_by("workspace_id")
        .values_list("workspace_id", flat=True)
        .distinct()
    )


def writeback_retry(*, workspace, allocation_id: int) -> str | None:
    """Queues one failed write-back again: `"pending"`, or `"superseded"` when a newer
    entry of the record exists (its owner is the one to write), or None when the allocation
    has no write-back to retry."""
    rows = WritebackOutbox.objects.filter(workspace=workspace, allocation_id=allocation_id)
    outcome = _writeback_retry_rows(rows, workspace_id=workspace.pk)["outcome"]
    if outcome is None and rows.filter(status=WritebackStatus.SUPERSEDED).exists():
        return "superseded"  # replaced already, when the newer entry was made
    return outcome


def writeback_retry_failed(*, workspace, provider: str | None = None) -> dict[str, int]:
    """Every failed write-back of the workspace (of one CRM when `provider` is given) goes
    back to the queue, except those a newer entry replaced: superseded instead."""
    rows = WritebackOutbox.objects.filter(workspace=workspace)
    if provider:
        rows = rows.filter(provider=provider)
    result = _writeback_retry_rows(rows, workspace_id=workspace.pk)
    return {"retried": result["retried"], "superseded": result["superseded"]}


def _writeback_retry_rows(rows, *, workspace_id: int) -> dict:
    now = timezone.now()
    failed = rows.filter(status=WritebackStatus.FAILED)
    with transaction.atomic():
        superseded = failed.filter(_stale()).update(
            status=WritebackStatus.SUPERSEDED, updated_at=now
        )
        retried = failed.update(
            status=WritebackStatus.PENDING, next_attempt_at=now, claimed_until=None, updated_at=now
        )
        if retried:
            writeback_schedule(workspace_id=workspace_id)
    outcome = "pending" if retried else "superseded" if superseded else None
    return {"retried": retried, "superseded": superseded, "outcome": outcome}


# --- connections ----------------------------------------------------------------------------
DEFAULT_SYNC_MINUTES = 60


def connection_create(*, workspace, provider, name, settings, credentials):
    """Credentials are encrypted before they touch the database; a periodic sync is
    scheduled for the connection, and write-backs that waited for a connection of this CRM
    are drained."""

    connection = CrmConnection.objects.create(
        workspace=workspace,
        provider=provider,
        name=name,
        settings=settings,
        credentials_encrypted=credentials_encrypt(credentials=credentials),
    )
    schedule_sync(connection=connection)
    writeback_schedule(workspace_id=workspace.pk)
    return connection


def connection_update(*, connection, credentials=None, **fields):
    """`credentials` replace the stored ones only when given (the API never shows them);
    new credentials end a `needs_reauth` state and the waiting write-backs are drained."""

    for name, value in fields.items():
        setattr(connection, name, value)
    if credentials is not None:
        connection.credentials_encrypted = credentials_encrypt(credentials=credentials)
        connection.needs_reauth = False
    connection.save()
    schedule_sync(connection=connection)
    if credentials is not None:
        writeback_schedule(workspace_id=connection.workspace_id)
    return connection


def connection_needs_reauth(*, connection, reason: str) -> None:
    """The CRM refused the credentials: the connection says so (API and UI) and its
    write-backs wait for a reconnection instead of failing."""
    # Only for the credentials that were refused: an admin may have saved new ones meanwhile.
    flagged = CrmConnection.objects.filter(
        pk=connection.pk, credentials_encrypted=connection.credentials_encrypted
    ).update(needs_reauth=True)
    if flagged and not connection.needs_reauth:
        logger.warning("CRM connection %s needs reauthentication: %s", connection.pk, reason)
    connection.needs_reauth = bool(flagged)


def connection_reauthenticated(*, connection) -> None:
    """The CRM accepted the credentials again: clear the flag and deliver what waited."""
    if CrmConnection.objects.filter(pk=connection.pk, needs_reauth=True).update(needs_reauth=False):
        writeback_schedule(workspace_id=connection.workspace_id)
    connection.needs_reauth = False


def connection_delete(*, connection) -> None:
    PeriodicTask.objects.filter(name=_schedule_name(connection)).delete()
    connection.delete()


def connection_test(*, connection) -> dict:
    """One cheap authenticated call; never raises for a CRM that is down or refuses."""

    try:
        detail = provider_for(connection=connection).test()
    except InvalidToken:  # FIELD_ENCRYPTION_KEY changed since they were saved
        logger.error("CRM connection %s: stored credentials cannot be decrypted", connection.pk)
        return {"ok": False, "detail": "The stored credentials cannot be read; save them again"}
    except CrmAuthError as exc:
        connection_needs_reauth(connection=connection, reason=str(exc))
        return {"ok": False, "detail": str(exc)}
    except (CrmError, TransientCrmError) as exc:
        return {"ok": False, "detail": str(exc)}
    connection_reauthenticated(connection=connection)
    return {"ok": True, "detail": detail}


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
