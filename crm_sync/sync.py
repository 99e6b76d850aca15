"""Member and pipeline sync: CRM users become members (matched by CRM user id), open deals
per owner become the pipeline snapshot that open-deal capacities read. One `SyncRun` per
run, its counts updated page by page so the UI and `sync_crm` can show progress."""

import logging
from collections.abc import Callable
from datetime import datetime
from zoneinfo import available_timezones

from django.db import transaction
from django.utils import timezone

from capacities.services import pipeline_snapshot_record
from members.models import Member

from .models import CrmConnection, SyncKind, SyncRun
from .providers import CrmAuthError, CrmError, CrmUser, TransientCrmError, provider_for
from .services import connection_needs_reauth, connection_reauthenticated
from .signals import member_sync_done

logger = logging.getLogger(__name__)
SYNCED_FIELDS = ("name", "email", "title", "is_active", "timezone")
TIMEZONES = frozenset(available_timezones())


def sync_cursor(connection: CrmConnection) -> datetime | None:
    """Where the last successful run stopped (the CRM's own change stamp), if any."""
    last = (
        SyncRun.objects.filter(connection=connection, kind=SyncKind.SYNC, status="succeeded")
        .exclude(counts__cursor=None)
        .order_by("-finished_at", "-id")
        .first()
    )
    cursor = last.counts.get("cursor") if last else None
    return datetime.fromisoformat(cursor) if cursor else None


def sync_execute(
    *, run: SyncRun, full: bool = False, progress: Callable[[dict], None] | None = None
) -> SyncRun:
    """Runs a queued sync: members (incremental since the cursor unless `full` or the
    first run), then the open-deal snapshot. A CRM error fails the run with its message."""
    connection = run.connection
    run.status, run.started_at = "running", timezone.now()
    run.save(update_fields=["status", "started_at"])
    counts = {"processed": 0, "total": 0, "created": 0, "updated": 0, "unchanged": 0}
    counts.update(deactivated=0, snapshots=0)
    try:
        provider = provider_for(connection=connection)
        since = None if full or not provider.incremental else sync_cursor(connection)
        cursor = _sync_members(connection, provider, since, counts, run, progress)
        counts["snapshots"] = _sync_pipeline(connection, provider)
        # Receivers (the SLA app) read what they need from the CRM in the same run.
        for _, seen in member_sync_done.send(
            sender=CrmConnection, connection=connection, provider=provider
        ):
            counts.update(seen or {})
        counts["cursor"] = cursor.isoformat() if cursor else None
        counts["mode"] = "incremental" if since else "full"
        run.status = "succeeded"
        connection.last_synced_at = timezone.now()
        connection.save(update_fields=["last_synced_at"])
        if connection.needs_reauth:
            connection_reauthenticated(connection=connection)
    except (CrmError, TransientCrmError) as exc:
        if isinstance(exc, CrmAuthError):
            connection_needs_reauth(connection=connection, reason=str(exc))
        run.status = "failed"
        run.errors = [*run.errors, str(exc)]
        logger.warning("sync run %s of connection %s failed: %s", run.pk, connection.pk, exc)
    except Exception:  # a bug must not leave the run "running" forever
        run.status, run.errors = "failed", [*run.errors, "unexpected error; see the server log"]
        run.counts, run.finished_at = counts, timezone.now()
        run.save(update_fields=["status", "counts", "errors", "finished_at"])
        raise
    run.counts, run.finished_at = counts, timezone.now()
    run.save(update_fields=["status", "counts", "errors", "finished_at"])
    return run


def _sync_members(connection, provider, since, counts, run, progress) -> datetime | None:
    existing = {
        member.crm_user_id: member
        for member in Member.objects.filter(
            workspace_id=connection.workspace_id, crm_provider=connection.provider
        ).exclude(crm_user_id="")
    }
    seen: set[str] = set()
    cursor = since
    for users, total in provider.users_pages(since=since):
        with transaction.atomic():
            for user in users:
                seen.add(user.crm_user_id)
                outcome = _member_upsert(connection, existing, user)
                counts[outcome] += 1
                if user.changed_at and (cursor is None or user.changed_at > cursor):
                    cursor = user.changed_at
        counts["processed"] += len(users)
        counts["total"] = max(total, counts["processed"])
        run.counts = counts
        run.save(update_fields=["counts"])
        if progress:
            progress(counts)
    if since is None:  # a full list: whoever is not in it is gone from the CRM
        gone = [m.pk for uid, m in existing.items() if uid not in seen and m.is_active]
        Member.objects.filter(pk__in=gone).update(is_active=False, updated_at=timezone.now())
        counts["deactivated"] += len(gone)
    return cursor


def _member_upsert(connection, existing: dict, user: CrmUser) -> str:
    """Creates or updates the CRM-owned fields only: metadata, role, manager, absences and
    capacities are the admin's and are never touched."""
    values = {
        "name": user.name[:200],
        "email": user.email[:254],
        "title": user.title[:200],
        "is_active": user.is_active,
    }
    if user.timezone in TIMEZONES:
        values["timezone"] = user.timezone
    member = existing.get(user.crm_user_id)
    if member is None:
        existing[user.crm_user_id] = Member.objects.create(
            workspace_id=connection.workspace_id,
            crm_provider=connection.provider,
            crm_user_id=user.crm_user_id,
            **values,
        )
        return "created"
    changed = [name for name, value in values.items() if getattr(member, name) != value]
    if not changed:
        return "unchanged"
    was_active = member.is_active
    for name in changed:
        setattr(member, name, values[name])
    member.save(update_fields=[*changed, "updated_at"])
    return "deactivated" if was_active and not member.is_active else "updated"


def _sync_pipeline(connection, provider) -> int:
    counts = provider.open_deal_counts()
    now = timezone.now()
    members = Member.objects.filter(
        workspace_id=connection.workspace_id, crm_provider=connection.provider
    ).exclude(crm_user_id="")
    for member in members:
        pipeline_snapshot_record(
            workspace=connection.workspace,
            member=member,
            open_deals=counts.get(member.crm_user_id, 0),
            taken_at=now,
        )
    return len(members)
