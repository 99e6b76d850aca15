"""The book from the CRM: accounts, then opportunities, synced as a job (jobs app).

The job has one chunk that pages through the CRM; each page is written and the cursor of the
next page is saved on the chunk (`jobs.services.chunk_checkpoint`) in one transaction, so a
sync that fails half-way — a worker killed, the CRM down longer than the retries — resumes
from its last page: the lease sweeper re-runs a dead worker's chunk, and the next
`book_sync_start` of a connection whose last sync failed continues that sync's checkpoint.
Rows are upserted by CRM id, so a page written twice changes nothing (no duplicates, no
gaps). A full sync removes the accounts it did not see; increments start after the newest
change stamp (`SystemModstamp`, `hs_lastmodifieddate`) of the last successful sync.
"""

import logging
import time
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from book import selectors as book_selectors
from book import services as book_services
from book.models import Account
from jobs import services as job_services
from jobs.models import ACTIVE_STATUSES, Job, JobChunk, JobKind, JobStatus
from members.models import Member
from notifications.events import publish
from revorg.errors import ConflictError

from .field_mapping import field_mapping_apply, field_mapping_effective
from .models import CrmConnection
from .providers import CrmAuthError, CrmError, TransientCrmError, provider_for
from .services import connection_needs_reauth

logger = logging.getLogger(__name__)

BOOK_SYNC = "crm_sync.book_sync"
ENTITIES = ("account", "opportunity")
FINISHED = "finished"
PAGE_ATTEMPTS = 5  # per page, for 429/5xx/network errors, before the job fails (resumable)
MAX_BACKOFF_SECONDS = 30.0


class SyncStopped(Exception):
    """The job was cancelled while the sync was paging."""


# --- starting -------------------------------------------------------------------------------


def _connection_jobs(connection):
    return Job.objects.filter(
        workspace_id=connection.workspace_id,
        handler=BOOK_SYNC,
        params__connection_id=connection.pk,
    ).order_by("-created_at", "-id")


def _checkpoint(job) -> dict | None:
    chunk = JobChunk.objects.filter(job=job, index=0).only("payload").first()
    return chunk.payload if chunk and chunk.payload.get("phase") else None


def book_sync_start(*, connection, actor_label: str, full: bool = False) -> Job:
    """Queues a sync of the connection's accounts and opportunities: 202 at once, the job
    runs on the workers. Continues the last sync from its checkpoint when that one failed
    (unless `full`); else incremental after the last successful sync, full the first time."""
    if _connection_jobs(connection).filter(status__in=ACTIVE_STATUSES).exists():
        raise ConflictError("a sync of this connection's book is already queued or running")
    last = _connection_jobs(connection).exclude(status=JobStatus.CANCELLED).first()
    checkpoint = None
    if last is not None and last.status == JobStatus.FAILED and not full:
        checkpoint = _checkpoint(last)
    if checkpoint is not None:
        checkpoint = {**checkpoint, "resumed_from_job": last.pk}
    else:
        since = None
        if not full:
            succeeded = _connection_jobs(connection).filter(status=JobStatus.SUCCEEDED).first()
            previous = _checkpoint(succeeded) if succeeded else None
            since = previous["stamps"] if previous else None
        checkpoint = _fresh_checkpoint(since)
    return job_services.job_create(
        workspace=connection.workspace,
        kind=JobKind.SYNC,
        handler=BOOK_SYNC,
        actor_label=actor_label,
        params={"connection_id": connection.pk, "checkpoint": checkpoint},
    )


def book_sync_scheduled(*, connection) -> Job | None:
    """The connection's periodic sync keeps an imported book current: an increment (or the
    continuation of a failed sync) once the book has been synced in full at least once — the
    first import of a whole CRM is the admin's decision. None when there is nothing to do or a
    sync of the book is already queued or running."""
    if not _connection_jobs(connection).filter(status=JobStatus.SUCCEEDED).exists():
        return None
    try:
        with transaction.atomic():
            return book_sync_start(connection=connection, actor_label="schedule")
    except ConflictError:
        return None


def _fresh_checkpoint(since: dict | None) -> dict:
    since = since or {}
    return {
        "phase": ENTITIES[0],
        "cursor": None,
        "full": not since,
        "since": {entity: since.get(entity) for entity in ENTITIES},
        # The newest change stamps seen: where the next increment starts once this succeeds.
        "stamps": {entity: since.get(entity) for entity in ENTITIES},
        "started_at": timezone.now().isoformat(),
        "done": 0,
        "totals": {},
        "counts": {
            "accounts_created": 0,
            "accounts_updated": 0,
            "opportunities_written": 0,
            "opportunities_without_account": 0,
            "pages": 0,
        },
        "size": 0,
    }


# --- the job handler ------------------------------------------------------------------------


def book_sync_plan(job) -> list[dict]:
    """One chunk: the pages depend on each other's cursors, so they run in order."""
    return [job.params["checkpoint"]]


def book_sync_prepare(job, payload) -> dict:
    """Pages through the CRM outside the chunk's transaction, each page in its own
    transaction with the checkpoint of the next one."""
    connection = CrmConnection.objects.filter(
        pk=job.params["connection_id"], workspace_id=job.workspace_id, is_active=True
    ).first()
    if connection is None:
        raise CrmError("the CRM connection was deleted or disabled")
    state = dict(payload)
    if state["phase"] == FINISHED:
        return state
    try:
        provider = provider_for(connection=connection)
        mapping = field_mapping_effective(
            provider=connection.provider, settings=connection.settings
        )
        members = dict(
            Member.objects.filter(
                workspace_id=connection.workspace_id, crm_provider=connection.provider
            )
            .exclude(crm_user_id="")
            .values_list("crm_user_id", "id")
        )
        while state["phase"] != FINISHED:
            entity = state["phase"]
            fields = sorted(set(mapping.values())) if entity == "account" else []
            page = _page_fetch(provider, entity, fields, state["since"][entity], state["cursor"])
            with transaction.atomic():
                _page_write(connection, entity, page, members, mapping, state)
                state["cursor"] = page.next_cursor
                if page.next_cursor is None:
                    later = ENTITIES.index(entity) + 1
                    state["phase"] = ENTITIES[later] if later < len(ENTITIES) else FINISHED
                running = job_services.chunk_checkpoint(
                    job_id=job.pk,
                    index=0,
                    payload=state,
                    done=state["done"],
                    total=max(state["done"], sum(state["totals"].values())),
                )
            if not running:
                raise SyncStopped("the job was cancelled")
    except CrmAuthError as exc:
        connection_needs_reauth(connection=connection, reason=str(exc))
        raise
    return state


def _page_fetch(provider, entity, fields, since, cursor):
    """One page; 429/5xx/network errors are retried with backoff (the CRM's Retry-After
    when it sent one), an expired session is refreshed by the provider."""
    for attempt in range(PAGE_ATTEMPTS):
        try:
            return provider.book_page(entity=entity, fields=fields, since=since, cursor=cursor)
        except TransientCrmError as exc:
            if attempt == PAGE_ATTEMPTS - 1:
                raise
            base = settings.CRM_BOOK_BACKOFF_SECONDS
            wait = exc.retry_after if exc.retry_after is not None else base * 2**attempt
            logger.info("CRM page of %s: %s; retrying in %.1f s", entity, exc, wait)
            time.sleep(min(MAX_BACKOFF_SECONDS, max(0.0, wait)))
    raise AssertionError("unreachable")


def _page_write(connection, entity, page, members, mapping, state) -> None:
    counts = state["counts"]
    counts["pages"] += 1
    state["done"] += len(page.records)
    if page.total is not None:
        state["totals"][entity] = page.total
    newest = state["stamps"].get(entity)
    for record in page.records:
        if record.changed_at and (newest is None or record.changed_at > newest):
            newest = record.changed_at
    state["stamps"][entity] = newest
    if entity == "account":
        rows = []
        for record in page.records:
            if not record.crm_id:
                continue
            fields, domain = field_mapping_apply(mapping=mapping, values=record.values)
            rows.append(
                {
                    "crm_id": record.crm_id[:255],
                    "name": record.name[:255],
                    "domain": domain,
                    "fields": fields,
                    "owner_id": members.get(record.owner_crm_id),
                    "crm_owner_id": record.owner_crm_id[:64],
                }
            )
        created = book_services.accounts_upsert(
            workspace_id=connection.workspace_id, provider=connection.provider, rows=rows
        )
        counts["accounts_created"] += created
        counts["accounts_updated"] += len(rows) - created
        return
    accounts = dict(
        Account.objects.filter(
            workspace_id=connection.workspace_id,
            crm_provider=connection.provider,
            crm_id__in={r.account_crm_id for r in page.records if r.account_crm_id},
        ).values_list("crm_id", "id")
    )
    rows = []
    for record in page.records:
        account_id = accounts.get(record.account_crm_id)
        if not record.crm_id or account_id is None:
            counts["opportunities_without_account"] += 1
            continue
        rows.append(_opportunity_row(record, account_id, members))
    counts["opportunities_written"] += book_services.opportunities_upsert(
        workspace_id=connection.workspace_id, provider=connection.provider, rows=rows
    )


def _opportunity_row(record, account_id, members) -> dict:
    deal = record.deal
    is_closed = _flag(deal.get("is_closed"))
    close_date = _day(deal.get("close_date"))
    probability = _decimal(deal.get("probability"))
    amount = _decimal(deal.get("amount"))
    return {
        "crm_id": record.crm_id[:255],
        "account_id": account_id,
        "name": record.name[:255],
        "owner_id": members.get(record.owner_crm_id),
        "stage": str(deal.get("stage") or "")[:100],
        "probability": _percent(probability),
        "amount": amount if amount is not None and abs(amount) < 10**16 else None,
        "close_date": close_date,
        "is_closed": is_closed,
        "is_won": _flag(deal.get("is_won")),
        "created_date": _day(deal.get("created_date")),
        "closed_date": close_date if is_closed else None,
    }


def _percent(value: Decimal | None) -> int | None:
    return int(value) if value is not None and 0 <= value <= 100 else None


def _flag(value) -> bool:
    return value is True or str(value).lower() == "true"


def _day(value) -> date | None:
    if not value:
        return None
    text = str(value)
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        return datetime.fromisoformat(text.replace("Z", "+00:00").replace("+0000", "+00:00")).date()
    except ValueError:
        return None


def _decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number.quantize(Decimal("0.01")) if number.is_finite() else None


def book_sync_apply(job, payload, prepared) -> tuple[dict, list]:
    """In the chunk's transaction: a full sync removes the accounts it did not see; the new
    accounts that no territory of the active plan covers are counted."""
    connection = CrmConnection.objects.get(pk=job.params["connection_id"])
    started_at = datetime.fromisoformat(prepared["started_at"])
    removed = opportunities_removed = 0
    if prepared["full"]:
        removed = book_services.accounts_remove_unseen(
            workspace_id=job.workspace_id, provider=connection.provider, seen_since=started_at
        )
        opportunities_removed = book_services.opportunities_remove_unseen(
            workspace_id=job.workspace_id, provider=connection.provider, seen_since=started_at
        )
    result = {
        **prepared["counts"],
        "accounts_removed": removed,
        "opportunities_removed": opportunities_removed,
    }
    uncovered = book_selectors.accounts_new_uncovered(
        workspace=job.workspace, since=started_at, provider=connection.provider
    )
    result["new_accounts_uncovered"] = len(uncovered)
    if uncovered:
        publish(
            workspace=job.workspace,
            event_type="account.orphaned",
            data=book_selectors.orphaned_event_data(job=job, source="sync", accounts=uncovered),
        )
    connection.last_synced_at = timezone.now()
    connection.save(update_fields=["last_synced_at"])
    return result, []


def book_sync_succeeded(job) -> None:
    """Accounts changed: the book app's re-evaluation trigger (as after a CSV import)."""
    result = job.result or {}
    if (
        result.get("accounts_created")
        or result.get("accounts_updated")
        or result.get("accounts_removed")
    ):
        book_services.book_reevaluate_request(
            workspace=job.workspace, actor_label=f"after sync job {job.pk}"
        )
