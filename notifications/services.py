"""Writes for notifications: events into outboxes, webhook delivery, e-mail, preferences.

Webhook deliveries follow crm_sync's write-back outbox: rows written in the publisher's
transaction; a drain claims a batch (FOR UPDATE SKIP LOCKED and a lease, in one statement),
calls the receivers outside any transaction, and records the outcomes only under its own
lease. Two drains never send the same row; nobody waits on a receiver.
"""

import json
import logging
import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

import kombu.exceptions
import urllib3
from django.conf import settings
from django.core import mail
from django.db import connection, transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone

from crm_sync.crypto import credentials_decrypt, credentials_encrypt
from crm_sync.endpoints import endpoint_host_problem, endpoint_url_problem
from revorg.errors import ApplicationError, ConflictError
from revorg.services import SYSTEM, audit_record

from .events import EVENT_TYPES
from .models import (
    DeliveryStatus,
    EmailNotification,
    EmailStatus,
    Event,
    NotificationMode,
    NotificationPreference,
    WebhookDelivery,
    WebhookEndpoint,
    message_id_for,
)
from .routing import routing_for
from .signing import message_body, message_headers, secret_generate, secret_problem, signer

logger = logging.getLogger(__name__)

# Longer than the drain task's time limit: a live drain never loses its rows to another; a
# crashed one gives them back when the lease runs out.
DELIVERY_LEASE = timedelta(seconds=360)
EMAIL_LEASE = timedelta(seconds=120)
EMAIL_MAX_ATTEMPTS = 5


# --- events ---------------------------------------------------------------------------------


def event_record(*, workspace, event_type: str, data: dict, members=()) -> Event | None:
    """The `event_published` receiver's work, in the publisher's transaction: one event row,
    a delivery per subscribed endpoint and an e-mail row per recipient; workers start after
    the commit. Nothing is written when nobody listens (one query decides)."""
    member_ids = [getattr(m, "pk", m) for m in members]
    routing = routing_for(workspace_id=workspace.pk, event_type=event_type, member_ids=member_ids)
    if routing.empty:
        return None
    now = timezone.now()
    with transaction.atomic():
        event = Event.objects.create(workspace=workspace, type=event_type, data=data)
        if routing.endpoint_ids:
            WebhookDelivery.objects.bulk_create(
                WebhookDelivery(
                    workspace=workspace,
                    endpoint_id=endpoint_id,
                    event=event,
                    next_attempt_at=now,
                    retry_until=now + _retry_window(),
                )
                for endpoint_id in routing.endpoint_ids
            )
            webhook_drain_schedule()
        if routing.recipients:
            EmailNotification.objects.bulk_create(
                EmailNotification(workspace=workspace, user_id=user_id, event=event, mode=mode)
                for user_id, mode in routing.recipients
            )
            if any(mode == NotificationMode.IMMEDIATE for _, mode in routing.recipients):
                email_send_schedule()
    return event


# --- webhook endpoints ----------------------------------------------------------------------


def webhook_url_problem(url) -> str | None:
    """crm_sync's endpoint rules: http(s), no credentials, query or fragment, and a public
    host unless private hosts are allowed (CRM_ALLOW_PRIVATE_HOSTS)."""
    return endpoint_url_problem(url) or endpoint_host_problem(url)


def _events_clean(events) -> list[str]:
    if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
        raise ApplicationError("must be a list of event types", field="events")
    unknown = sorted(set(events) - set(EVENT_TYPES))
    if unknown:
        raise ApplicationError(
            f"unknown event type(s): {', '.join(unknown)}; choose from {', '.join(EVENT_TYPES)}",
            field="events",
        )
    return [e for e in EVENT_TYPES if e in events]


def _endpoint_audit_state(endpoint) -> dict:
    """Never the secret: audit entries are readable by every admin."""
    return {"url": endpoint.url, "events": list(endpoint.events), "is_active": endpoint.is_active}


def endpoint_secret(endpoint) -> str:
    return credentials_decrypt(token=endpoint.secret_encrypted)["secret"]


@transaction.atomic
def webhook_endpoint_create(
    *, workspace, url, events=(), is_active=True, secret=None, actor=SYSTEM
) -> tuple[WebhookEndpoint, str]:
    """The endpoint and its secret: the one moment the secret is shown (generated when the
    client supplies none)."""
    if problem := webhook_url_problem(url):
        raise ApplicationError(problem, field="url")
    events = _events_clean(list(events))
    if secret is None or secret == "":
        secret = secret_generate()
    elif problem := secret_problem(secret):
        raise ApplicationError(problem, field="secret")
    endpoint = WebhookEndpoint.objects.create(
        workspace=workspace,
        url=url,
        events=events,
        is_active=bool(is_active),
        secret_encrypted=credentials_encrypt(credentials={"secret": secret}),
    )
    audit_record(
        workspace=workspace,
        actor=actor,
        action="create",
        obj=endpoint,
        after=_endpoint_audit_state(endpoint),
    )
    return endpoint, secret


@transaction.atomic
def webhook_endpoint_update(*, endpoint, actor=SYSTEM, **changes) -> WebhookEndpoint:
    """`url`, `events`, `is_active`, `secret` (replaced only when given). Re-enabling an
    endpoint delivers what waited for it."""
    before = _endpoint_audit_state(endpoint)
    if "url" in changes:
        if problem := webhook_url_problem(changes["url"]):
            raise ApplicationError(problem, field="url")
        endpoint.url = changes["url"]
    if "events" in changes:
        endpoint.events = _events_clean(changes["events"])
    if "is_active" in changes:
        endpoint.is_active = bool(changes["is_active"])
    if changes.get("secret"):
        if problem := secret_problem(changes["secret"]):
            raise ApplicationError(problem, field="secret")
        endpoint.secret_encrypted = credentials_encrypt(credentials={"secret": changes["secret"]})
    endpoint.save()
    audit_record(
        workspace=endpoint.workspace,
        actor=actor,
        action="update",
        obj=endpoint,
        before=before,
        after=_endpoint_audit_state(endpoint),
    )
    if endpoint.is_active:
        webhook_drain_schedule()
    return endpoint


@transaction.atomic
def webhook_endpoint_delete(*, endpoint, actor=SYSTEM) -> None:
    audit_record(
        workspace=endpoint.workspace,
        actor=actor,
        action="delete",
        obj=endpoint,
        before=_endpoint_audit_state(endpoint),
    )
    endpoint.delete()


# --- delivery -------------------------------------------------------------------------------


def _retry_window() -> timedelta:
    return timedelta(seconds=settings.WEBHOOK_RETRY_WINDOW_SECONDS)


def backoff_delay(attempts: int) -> timedelta:
    """Wait after the `attempts`-th failed attempt: base · 2^(attempts−1), capped."""
    seconds = settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** max(0, attempts - 1)
    return timedelta(seconds=min(seconds, settings.WEBHOOK_RETRY_MAX_SECONDS))


def backoff_schedule(*, window: timedelta | None = None) -> list[timedelta]:
    """The offsets from the first attempt at which a never-accepted delivery is tried."""
    window = window if window is not None else _retry_window()
    offsets, at, attempts = [timedelta(0)], timedelta(0), 1
    while at + backoff_delay(attempts) <= window:
        at += backoff_delay(attempts)
        offsets.append(at)
        attempts += 1
    return offsets


def _on_commit_once(func) -> None:
    """`func` after the commit. (One per published event: a transaction publishing many
    queues as many drains, each cheap when the others took the rows.)"""
    transaction.on_commit(func)


def _drain_soon() -> None:
    from .tasks import webhook_drain

    if webhook_drain.app.conf.task_always_eager:
        if settings.WEBHOOK_EAGER_MODE == "inline":
            webhook_drain_all()
        else:
            _background.kick()
    else:
        _enqueue(webhook_drain, what="webhook drain")


def webhook_drain_schedule() -> None:
    """A drain once the current transaction commits: a worker with a broker (a broker that is
    down leaves the rows to the sweeper), or a background thread in demo mode, never the
    request itself."""
    _on_commit_once(_drain_soon)


def _enqueue(task, *, what: str, countdown: float | None = None, **kwargs) -> None:
    try:
        task.apply_async(kwargs=kwargs, countdown=countdown)
    except kombu.exceptions.OperationalError as exc:
        logger.warning("%s not queued: broker unreachable (%s)", what, type(exc).__name__)


def webhook_drain_all(*, batch_size: int | None = None) -> dict:
    """Delivers every due row, batch after batch, until none is left; returns the counts and
    `next_due_in` (seconds until the earliest retry, or None).

    Pipelined: while the sending threads post one batch, this thread claims the next and
    records the previous one, so the receivers never wait on the database and the database
    never waits on a receiver. At most two batches per drain are leased at a time."""
    batch_size = batch_size or settings.WEBHOOK_BATCH_SIZE
    totals = {"succeeded": 0, "retrying": 0, "failed": 0}
    in_flight = None
    try:
        while True:
            lease, rows = _delivery_claim(limit=batch_size)
            sending = _deliveries_start(rows) if rows else None
            if in_flight is not None:
                _totals_add(totals, _delivery_record(**_in_flight_outcomes(in_flight)))
                in_flight = None
            if not rows:
                break
            in_flight = {"rows": rows, "lease": lease, "sending": sending}
    finally:
        if in_flight is not None:  # an exception between start and record: still record
            _delivery_record(**_in_flight_outcomes(in_flight))
    nxt = (
        WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING, endpoint__is_active=True)
        .order_by("next_attempt_at")
        .values_list("next_attempt_at", flat=True)
        .first()
    )
    totals["next_due_in"] = (
        max(0.0, (nxt - timezone.now()).total_seconds()) if nxt is not None else None
    )
    return totals


def _totals_add(totals: dict, counts: dict) -> None:
    for outcome, count in counts.items():
        totals[outcome] += count


def _in_flight_outcomes(in_flight: dict) -> dict:
    return {
        "rows": in_flight["rows"],
        "lease": in_flight["lease"],
        "outcomes": dict(future.result() for future in in_flight["sending"]),
    }


@dataclass(frozen=True, slots=True)
class ClaimedDelivery:
    """What sending and recording a claimed delivery need, read by the claim itself."""

    id: int
    attempts: int
    retry_until: datetime
    endpoint_id: int
    url: str
    secret_encrypted: str
    event_type: str
    occurred_at: datetime
    data: dict

    @property
    def message_id(self) -> str:
        return message_id_for(self.id)


def _column(model, field: str) -> str:
    return model._meta.get_field(field).column


@cache
def _claim_sql() -> str:
    """One statement: lease the due rows (FOR UPDATE SKIP LOCKED, so concurrent drains take
    disjoint rows) and return them with their endpoint and event. Only ids are ordered and
    limited, on the partial index; events and endpoints are joined for the claimed rows."""
    d = {f: _column(WebhookDelivery, f) for f in ("id", "status", "next_attempt_at",
         "claimed_until", "endpoint", "event", "attempts", "retry_until")}  # fmt: skip
    e = {f: _column(WebhookEndpoint, f) for f in ("id", "is_active", "url", "secret_encrypted")}
    ev = {f: _column(Event, f) for f in ("id", "type", "created_at", "data")}
    deliveries = WebhookDelivery._meta.db_table
    endpoints = WebhookEndpoint._meta.db_table
    return f"""
        WITH claimed AS (
            UPDATE {deliveries} SET {d["claimed_until"]} = %(lease)s
            WHERE {d["id"]} IN (
                SELECT {d["id"]} FROM {deliveries}
                WHERE {d["status"]} = %(pending)s AND {d["next_attempt_at"]} <= %(now)s
                  AND ({d["claimed_until"]} IS NULL OR {d["claimed_until"]} <= %(now)s)
                  AND {d["endpoint"]} IN (SELECT {e["id"]} FROM {endpoints} WHERE {e["is_active"]})
                ORDER BY {d["next_attempt_at"]}, {d["id"]}
                LIMIT %(limit)s
                FOR UPDATE SKIP LOCKED)
            RETURNING {d["id"]}, {d["attempts"]}, {d["retry_until"]}, {d["endpoint"]}, {d["event"]}
        )
        SELECT c.{d["id"]} AS id, c.{d["attempts"]} AS attempts,
               c.{d["retry_until"]} AS retry_until, c.{d["endpoint"]} AS endpoint_id,
               e.{e["url"]} AS url, e.{e["secret_encrypted"]} AS secret_encrypted,
               ev.{ev["type"]} AS event_type, ev.{ev["created_at"]} AS occurred_at,
               ev.{ev["data"]} AS data
        FROM claimed c
        JOIN {endpoints} e ON e.{e["id"]} = c.{d["endpoint"]}
        JOIN {Event._meta.db_table} ev ON ev.{ev["id"]} = c.{d["event"]}
        ORDER BY c.{d["id"]}
    """


def _delivery_claim(*, limit: int) -> tuple[datetime, list[ClaimedDelivery]]:
    now = timezone.now()
    lease = now + DELIVERY_LEASE
    if connection.vendor != "postgresql":
        return lease, _delivery_claim_orm(now=now, lease=lease, limit=limit)
    params = {"lease": lease, "pending": DeliveryStatus.PENDING, "now": now, "limit": limit}
    with connection.cursor() as cursor:
        cursor.execute(_claim_sql(), params)
        names = [column.name for column in cursor.description]
        rows = [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
    return lease, [ClaimedDelivery(**{**row, "data": json.loads(row["data"])}) for row in rows]


def _delivery_claim_orm(*, now, lease, limit: int) -> list[ClaimedDelivery]:
    """The claim in several statements, for SQLite (`make run`), where one writer at a time
    makes FOR UPDATE SKIP LOCKED unnecessary."""
    with transaction.atomic():
        ids = list(
            WebhookDelivery.objects.filter(
                Q(claimed_until__isnull=True) | Q(claimed_until__lte=now),
                status=DeliveryStatus.PENDING,
                next_attempt_at__lte=now,
                endpoint__is_active=True,
            )
            .select_for_update(skip_locked=True, of=("self",))
            .order_by("next_attempt_at", "id")
            .values_list("id", flat=True)[:limit]
        )
        WebhookDelivery.objects.filter(id__in=ids).update(claimed_until=lease)
    rows = (
        WebhookDelivery.objects.filter(id__in=ids)
        .order_by("id")
        .values(
            "id",
            "attempts",
            "retry_until",
            "endpoint_id",
            url=F("endpoint__url"),
            secret_encrypted=F("endpoint__secret_encrypted"),
            event_type=F("event__type"),
            occurred_at=F("event__created_at"),
            data=F("event__data"),
        )
    )
    return [ClaimedDelivery(**row) for row in rows]


# What a receiver's answer may hold before we hang up on it (we only need its status line).
RESPONSE_BODY_LIMIT = 64 * 1024
_pool_lock = threading.Lock()
_pool: urllib3.PoolManager | None = None
_senders: ThreadPoolExecutor | None = None


def _forget_pools() -> None:
    """A forked child gets neither the parent's sockets nor its threads."""
    global _pool, _senders
    _pool = _senders = None


os.register_at_fork(after_in_child=_forget_pools)


def _http() -> urllib3.PoolManager:
    """One connection pool per process, shared by the sending threads (urllib3's pools are
    thread-safe): keep-alive to each receiver, no proxy from the environment, no redirects,
    no retries of its own (ours are in the outbox)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = urllib3.PoolManager(
                num_pools=64,
                maxsize=max(1, settings.WEBHOOK_CONCURRENCY),
                block=False,
                retries=False,
                timeout=urllib3.Timeout(connect=5.0, read=settings.WEBHOOK_TIMEOUT_SECONDS),
            )
        return _pool


def _sending_threads() -> ThreadPoolExecutor:
    """WEBHOOK_CONCURRENCY sending threads per process, kept between batches and drains (a
    new size from the settings replaces them)."""
    global _senders
    size = max(1, settings.WEBHOOK_CONCURRENCY)
    with _pool_lock:
        if _senders is None or _senders._max_workers != size:
            if _senders is not None:
                _senders.shutdown(wait=False)
            _senders = ThreadPoolExecutor(max_workers=size, thread_name_prefix="webhook-send")
        return _senders


def _post(url: str, body: bytes, headers: dict) -> tuple[int | None, str]:
    try:
        response = _http().request(
            "POST", url, body=body, headers=headers, redirect=False, preload_content=False
        )
    except urllib3.exceptions.NewConnectionError:  # before TimeoutError: it subclasses it
        return None, "connection failed"
    except urllib3.exceptions.TimeoutError:
        return None, "timed out"
    except urllib3.exceptions.HTTPError:
        return None, "connection failed"
    try:
        # Never kept: read (up to a limit) only so the connection can carry the next one.
        if len(response.read(RESPONSE_BODY_LIMIT, decode_content=False)) < RESPONSE_BODY_LIMIT:
            response.release_conn()
        else:
            response.close()
    except urllib3.exceptions.HTTPError:
        response.close()
    code = response.status
    return code, "" if 200 <= code < 300 else f"HTTP {code}"


def _send(row: ClaimedDelivery, webhook_signer) -> tuple[int, tuple[int | None, str]]:
    body = message_body(event_type=row.event_type, occurred_at=row.occurred_at, data=row.data)
    headers = message_headers(
        signer=webhook_signer, message_id=row.message_id, sent_at=timezone.now(), body=body
    )
    return row.id, _post(row.url, body.encode(), headers)


def _refused(row: ClaimedDelivery, problem: str) -> tuple[int, tuple[None, str]]:
    return row.id, (None, problem)


def _deliveries_start(rows: list[ClaimedDelivery]) -> list[Future]:
    """Queues the batch on the sending threads: futures of (row id, (response code or None,
    error or "")). Each endpoint's host is checked once per batch (DNS may have changed since
    it was saved); a refused one is not called."""
    checked: dict[int, tuple] = {}
    for row in rows:
        if row.endpoint_id not in checked:
            problem = webhook_url_problem(row.url)
            checked[row.endpoint_id] = (
                (_refused, f"URL refused: {problem}")
                if problem
                else (_send, signer(credentials_decrypt(token=row.secret_encrypted)["secret"]))
            )
    submit = _sending_threads().submit
    return [submit(checked[row.endpoint_id][0], row, checked[row.endpoint_id][1]) for row in rows]


def _delivery_record(*, rows, outcomes, lease) -> dict[str, int]:
    """Outcomes under the claim's lease: the successes in one UPDATE per response code, the
    failures in one bulk UPDATE per outcome, each with its next attempt from the backoff or
    `failed` once that would fall after its retry window. No transaction: each statement
    stands alone, and a row whose outcome was not written is sent again after its lease."""
    now = timezone.now()
    counts = {"succeeded": 0, "retrying": 0, "failed": 0}
    by_code: dict[int, list[int]] = {}
    failures: dict[str, list[WebhookDelivery]] = {"retrying": [], "failed": []}
    for row in rows:
        code, error = outcomes[row.id]
        if not error:
            by_code.setdefault(code, []).append(row.id)
            continue
        attempts = row.attempts + 1
        next_at = now + backoff_delay(attempts)
        gave_up = next_at > row.retry_until
        failures["failed" if gave_up else "retrying"].append(
            WebhookDelivery(
                id=row.id,
                status=DeliveryStatus.FAILED if gave_up else DeliveryStatus.PENDING,
                attempts=attempts,
                response_code=code,
                last_error=error[:300],
                next_attempt_at=None if gave_up else next_at,
                claimed_until=None,
                updated_at=now,
            )
        )
    leased = WebhookDelivery.objects.filter(claimed_until=lease)
    for code, ids in by_code.items():
        counts["succeeded"] += leased.filter(id__in=ids).update(
            status=DeliveryStatus.SUCCEEDED,
            attempts=F("attempts") + 1,
            response_code=code,
            last_error="",
            next_attempt_at=None,
            claimed_until=None,
            updated_at=now,
        )
    for outcome, objs in failures.items():
        if objs:
            counts[outcome] += leased.bulk_update(objs, FAILURE_FIELDS, batch_size=len(objs))
    return counts


FAILURE_FIELDS = [
    "status",
    "attempts",
    "response_code",
    "last_error",
    "next_attempt_at",
    "claimed_until",
    "updated_at",
]


def webhook_sweep() -> dict:
    """Periodic: deliveries whose window closed while their endpoint was disabled are failed;
    returns whether due rows wait (the task then queues a drain)."""
    now = timezone.now()
    expired = WebhookDelivery.objects.filter(
        status=DeliveryStatus.PENDING, retry_until__lt=now
    ).update(
        status=DeliveryStatus.FAILED,
        next_attempt_at=None,
        last_error="not delivered within the retry window",
        updated_at=now,
    )
    due = WebhookDelivery.objects.filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lte=now),
        status=DeliveryStatus.PENDING,
        next_attempt_at__lte=now,
        endpoint__is_active=True,
    ).exists()
    return {"expired": expired, "due": due}


@transaction.atomic
def webhook_redeliver(*, delivery: WebhookDelivery, actor=SYSTEM) -> WebhookDelivery:
    """Sends the delivery again (same `webhook-id`), with a fresh retry window; a pending one
    is made due now. 409 while an attempt is in flight."""
    locked = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
    now = timezone.now()
    if locked.claimed_until is not None and locked.claimed_until > now:
        raise ConflictError("This delivery is being attempted right now; try again shortly.")
    locked.status = DeliveryStatus.PENDING
    locked.next_attempt_at = now
    locked.retry_until = now + _retry_window()
    locked.claimed_until = None
    locked.save(
        update_fields=["status", "next_attempt_at", "retry_until", "claimed_until", "updated_at"]
    )
    audit_record(
        workspace=locked.workspace,
        actor=actor,
        action="redeliver",
        obj=locked,
        after={"event": locked.event.type, "endpoint": locked.endpoint_id},
    )
    webhook_drain_schedule()
    return locked


class _BackgroundDrainer:
    """Demo mode (no broker): one daemon thread per process drains after each kick and
    while retries are due, standing in for workers and beat. Rows live in the outbox, so a
    restart loses nothing."""

    def __init__(self):
        self._wake = threading.Event()
        self._start = threading.Lock()
        self._thread = None

    def kick(self):
        with self._start:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._loop, name="webhook-drainer", daemon=True
                )
                self._thread.start()
        self._wake.set()

    def _loop(self):
        from django.db import connections

        timeout = None
        while True:
            self._wake.wait(timeout)
            self._wake.clear()
            try:
                due_in = webhook_drain_all()["next_due_in"]
                timeout = None if due_in is None else max(1.0, min(due_in, 60.0))
            except Exception:
                logger.exception("background webhook drain failed")
                timeout = 60.0
            finally:
                connections.close_all()


_background = _BackgroundDrainer()


# --- e-mail ---------------------------------------------------------------------------------


def _emails_soon() -> None:
    from .tasks import email_send

    if email_send.app.conf.task_always_eager:
        try:
            emails_send_immediate()
        except Exception:
            logger.exception("sending notification e-mails failed")
    else:
        _enqueue(email_send, what="notification e-mails")


def email_send_schedule() -> None:
    _on_commit_once(_emails_soon)


def _email_claim(*, mode: str, limit: int = 500, user_id: int | None = None):
    now = timezone.now()
    lease = now + EMAIL_LEASE
    with transaction.atomic():
        rows = EmailNotification.objects.filter(
            Q(claimed_until__isnull=True) | Q(claimed_until__lte=now),
            status=EmailStatus.PENDING,
            mode=mode,
        )
        if user_id is not None:
            rows = rows.filter(user_id=user_id)
        rows = list(
            rows.select_related("event", "user", "workspace")
            .select_for_update(skip_locked=True, of=("self",))
            .order_by("id")[:limit]
        )
        if rows:
            EmailNotification.objects.filter(id__in=[r.id for r in rows]).update(
                claimed_until=lease
            )
    return lease, rows


def event_email(*, event: Event, workspace) -> tuple[str, str]:
    """(subject, body) from the event type's template: its first line is the subject."""
    text = render_to_string(
        f"notifications/email/{event.type}.txt",
        {"event": event, "data": event.data, "workspace": workspace},
    ).strip()
    subject, _, body = text.partition("\n")
    return f"[revorg · {workspace.name}] {subject.strip()}", body.strip() + "\n"


def _email_settle(*, sent_ids, failed_ids, lease) -> None:
    now = timezone.now()
    if sent_ids:
        EmailNotification.objects.filter(id__in=sent_ids, claimed_until=lease).update(
            status=EmailStatus.SENT, sent_at=now, claimed_until=None, attempts=F("attempts") + 1
        )
    if failed_ids:
        EmailNotification.objects.filter(id__in=failed_ids, claimed_until=lease).update(
            claimed_until=None, attempts=F("attempts") + 1
        )
        EmailNotification.objects.filter(
            id__in=failed_ids, attempts__gte=EMAIL_MAX_ATTEMPTS
        ).update(status=EmailStatus.FAILED)


def emails_send_immediate() -> int:
    """Sends the pending immediate e-mails, one message per event and user, over one
    connection of the mail backend. A refused batch is retried by the next run."""
    sent = 0
    while True:
        lease, rows = _email_claim(mode=NotificationMode.IMMEDIATE)
        if not rows:
            return sent
        messages = []
        for row in rows:
            subject, body = event_email(event=row.event, workspace=row.workspace)
            messages.append(mail.EmailMessage(subject=subject, body=body, to=[row.user.email]))
        try:
            with mail.get_connection() as connection:
                connection.send_messages(messages)
        except Exception:
            logger.exception("notification e-mails not sent; retried later")
            _email_settle(sent_ids=[], failed_ids=[r.id for r in rows], lease=lease)
            return sent
        _email_settle(sent_ids=[r.id for r in rows], failed_ids=[], lease=lease)
        sent += len(rows)


def digest_send() -> int:
    """The daily digest: one e-mail per user and workspace with every pending digest event.
    Returns the number of e-mails sent."""
    pairs = (
        EmailNotification.objects.filter(status=EmailStatus.PENDING, mode=NotificationMode.DIGEST)
        .values_list("user_id", flat=True)
        .distinct()
    )
    sent = 0
    for user_id in list(pairs):
        lease, rows = _email_claim(mode=NotificationMode.DIGEST, user_id=user_id, limit=5000)
        by_workspace: dict = {}
        for row in rows:
            by_workspace.setdefault(row.workspace, []).append(row)
        for workspace, ws_rows in by_workspace.items():
            lines = [event_email(event=r.event, workspace=workspace)[0] for r in ws_rows]
            body = render_to_string(
                "notifications/email/digest.txt",
                {"workspace": workspace, "rows": ws_rows, "lines": lines},
            )
            message = mail.EmailMessage(
                subject=f"[revorg · {workspace.name}] Daily digest: {len(ws_rows)} events",
                body=body,
                to=[ws_rows[0].user.email],
            )
            try:
                message.send()
            except Exception:
                logger.exception("digest for user %s not sent; retried tomorrow", user_id)
                _email_settle(sent_ids=[], failed_ids=[r.id for r in ws_rows], lease=lease)
                continue
            _email_settle(sent_ids=[r.id for r in ws_rows], failed_ids=[], lease=lease)
            sent += 1
    return sent


# --- preferences ----------------------------------------------------------------------------


@transaction.atomic
def preferences_set(*, workspace, user, modes: dict) -> None:
    """`modes`: event type → immediate | digest | off, all validated before any is saved."""
    if not isinstance(modes, dict):
        raise ApplicationError("must be an object of event type → mode", field="modes")
    errors = []
    for event_type, mode in modes.items():
        if event_type not in EVENT_TYPES:
            errors.append(f"unknown event type {event_type!r}")
        elif mode not in NotificationMode.values:
            errors.append(f"{event_type}: choose {', '.join(NotificationMode.values)}")
    if errors:
        raise ApplicationError(errors, field="modes")
    for event_type, mode in modes.items():
        NotificationPreference.objects.update_or_create(
            workspace=workspace, user=user, event_type=event_type, defaults={"mode": mode}
        )


# --- the weekly exception report ------------------------------------------------------------


def exception_report_send(*, now=None) -> int:
    """E-mails every workspace's admins its weekly exception report; returns e-mails sent."""
    from revorg.models import Role, Workspace, WorkspaceMembership

    from .selectors import exception_report

    now = now or timezone.now()
    sent = 0
    for workspace in Workspace.objects.all():
        admins = list(
            WorkspaceMembership.objects.filter(
                workspace=workspace, role=Role.ADMIN, user__is_active=True
            )
            .exclude(user__email="")
            .values_list("user__email", flat=True)
        )
        if not admins:
            continue
        report = exception_report(workspace=workspace, now=now)
        body = render_to_string(
            "notifications/email/exception_report.txt", {"workspace": workspace, "r": report}
        )
        mail.EmailMessage(
            subject=f"[revorg · {workspace.name}] Weekly exception report",
            body=body,
            to=admins,
        ).send()
        sent += 1
    return sent
