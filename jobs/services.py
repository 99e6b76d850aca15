"""The chunked job runner.

A job is planned into `JobChunk` rows; Celery spreads one task per chunk over the workers
(a `group`). A chunk is claimed with a lease; its work, its `done` mark and the job's
progress commit in one transaction, so a redelivered or re-queued chunk that is already done
is skipped (idempotent). Whoever commits the last chunk completes the job (a chord counted
in Postgres: no result backend needed). Chunks of a dead worker keep an expired lease and
`job_sweep`/`job_resume` queue them again. Without a broker (demo mode) a job runs in a
background thread after the request's commit, never inside the request.
"""

import gc
import logging
import threading
import time
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import F
from django.utils import timezone

from revorg.errors import ApplicationError, ConflictError
from revorg.services import SYSTEM, Actor, audit_record

from .models import ACTIVE_STATUSES, ChunkState, Job, JobChunk, JobStatus
from .registry import handler_get

logger = logging.getLogger(__name__)

RETRYABLE_SQLSTATES = {"40001", "40P01"}  # serialization failure, deadlock
CHUNK_ATTEMPTS = 5
MAX_JOB_ERRORS = 1000


class ChunkContinues(Exception):
    """Raised by a long chunk's `prepare` right after a checkpoint (`chunk_checkpoint`): the
    chunk goes back to the queue and resumes from its saved payload in a new task, so that
    no task outlives its time limit (a sequential chunk such as a replay of a long window)."""


def _lease_seconds() -> int:
    return int(getattr(settings, "JOBS_CHUNK_LEASE_SECONDS", 600))


def job_create(
    *,
    workspace,
    kind: str,
    handler: str,
    actor_label: str,
    params=None,
    input_text: str = "",
    dispatch: bool = True,
) -> Job:
    """A queued job, started once the caller's transaction commits (`dispatch=False`: the
    caller runs it itself, e.g. `job_run_inline` in a management command)."""
    handler_get(handler)  # an unknown handler is a programming error: fail now, not later
    job = Job.objects.create(
        workspace=workspace,
        kind=kind,
        handler=handler,
        params=params or {},
        input_text=input_text,
        created_by=actor_label,
    )
    if dispatch:
        transaction.on_commit(lambda: job_dispatch(job_id=job.pk))
    return job


def job_dispatch(*, job_id: int) -> None:
    """Starts the job: on the broker, or in demo mode (eager tasks) in a background thread so
    the web request returns at once. JOBS_EAGER_MODE=inline runs it in the caller's thread."""
    from revorg.celery import app

    from .tasks import job_start_task

    if not app.conf.task_always_eager:
        try:
            job_start_task.delay(job_id=job_id)
        except Exception:  # broker unreachable: job_sweep starts queued jobs later
            logger.warning("job %s not queued; the sweeper will start it", job_id)
        return
    if getattr(settings, "JOBS_EAGER_MODE", "thread") == "inline":
        job_run_inline(job_id=job_id)
        return
    threading.Thread(
        target=_run_in_thread, args=(job_id,), name=f"{JOB_THREAD_PREFIX}{job_id}", daemon=True
    ).start()


# Names the threads of JOBS_EAGER_MODE "thread" (logs, profilers; tests join them).
JOB_THREAD_PREFIX = "revorg-job-"


def _run_in_thread(job_id: int) -> None:
    try:
        job_run_inline(job_id=job_id)
    except Exception:
        logger.exception("job %s failed in its background thread", job_id)
    finally:
        connection.close()


def job_run_inline(*, job_id: int) -> None:
    """The whole job in this thread, chunk after chunk (demo mode, operators, tests)."""
    for chunk_id in job_start(job_id=job_id):
        chunk_run(chunk_id=chunk_id)


def job_start(*, job_id: int) -> list[int]:
    """Plans the chunks (once) and marks the job running; returns the chunks to queue."""
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status not in ACTIVE_STATUSES:
            return []
        if job.status == JobStatus.QUEUED:
            handler = handler_get(job.handler)
            try:
                payloads = handler.plan(job)
            except Exception as exc:
                logger.exception("job %s could not be planned", job_id)
                _finish(job, JobStatus.FAILED, errors=[_public_error(exc)])
                return []
            lease = timezone.now() + timedelta(seconds=_lease_seconds())
            JobChunk.objects.bulk_create(
                JobChunk(
                    job=job,
                    index=index,
                    payload=payload,
                    size=int(payload.get("size", 0)),
                    lease_expires_at=lease,
                )
                for index, payload in enumerate(payloads)
            )
            job.status = JobStatus.RUNNING
            job.started_at = timezone.now()
            job.progress_total = sum(int(p.get("size", 0)) for p in payloads)
            job.input_text = ""  # the chunks hold what the handler needs from it
            job.save(update_fields=["status", "started_at", "progress_total", "input_text"])
        chunk_ids = list(
            JobChunk.objects.filter(job=job)
            .exclude(state__in=[ChunkState.DONE, ChunkState.FAILED])
            .values_list("id", flat=True)
        )
    if not chunk_ids:
        job_finalize_if_complete(job_id=job_id)
    return chunk_ids


def _error(message: str, line=None, column=None) -> dict:
    return {"line": line, "column": column, "message": message}


def _public_error(exc: Exception) -> dict:
    """What a job shows of a failure: our own words (an ApplicationError's message, or an
    exception class that declares `public = True`, e.g. the CRM errors) or a fixed sentence;
    anything else (SQL, key values) goes only to the server log."""
    if isinstance(exc, ApplicationError):
        return _error(exc.message)
    if getattr(exc, "public", False):
        return _error(f"{type(exc).__name__}: {exc}")
    return _error(f"{type(exc).__name__}: an internal error stopped this step (see the server log)")


def _claim(chunk_id: int) -> JobChunk | None:
    """Takes the chunk for this worker unless it is finished, its job is no longer running,
    or another worker holds an unexpired lease on it."""
    now = timezone.now()
    with transaction.atomic():
        # The chunk's row only: the job's row is what every finishing chunk updates.
        chunk = (
            JobChunk.objects.select_for_update(of=("self",)).select_related("job").get(pk=chunk_id)
        )
        if chunk.state in (ChunkState.DONE, ChunkState.FAILED):
            return None
        if chunk.job.status != JobStatus.RUNNING:
            return None
        if (
            chunk.state == ChunkState.RUNNING
            and chunk.lease_expires_at
            and chunk.lease_expires_at > now
        ):
            return None
        chunk.state = ChunkState.RUNNING
        chunk.attempts += 1
        chunk.lease_expires_at = now + timedelta(seconds=_lease_seconds())
        chunk.save(update_fields=["state", "attempts", "lease_expires_at", "updated_at"])
    return chunk


def chunk_run(*, chunk_id: int) -> str:
    """Runs one chunk at most once to completion; returns what happened (for logs/tests)."""
    chunk = _claim(chunk_id)
    if chunk is None:
        return "skipped"
    with _collector_paused():
        return _chunk_work(chunk)


@contextmanager
def _collector_paused():
    """Python's cycle collector waits until the chunk is done. A chunk allocates hundreds of
    thousands of short-lived, acyclic dicts and tuples (freed by reference counting), and
    each of the collections they trigger also walks the worker's long-lived objects (the
    plan's compiled matcher): a third of a re-evaluation chunk's Python time. What cycles a
    chunk leaves are collected after it."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _chunk_work(chunk: JobChunk) -> str:
    """The claimed chunk: its handler's work in one transaction, retried on a deadlock or a
    serialization failure; then the job finishes if it was the last."""
    chunk_id = chunk.pk
    job = chunk.job
    handler = handler_get(job.handler)
    for attempt in range(CHUNK_ATTEMPTS):
        try:
            prepared = handler.prepare(job, chunk.payload) if handler.prepare else None
            with transaction.atomic():
                locked = JobChunk.objects.select_for_update().get(pk=chunk_id)
                if locked.state == ChunkState.DONE:
                    return "skipped"  # another worker finished it while this one prepared
                result, errors = handler.apply(job, chunk.payload, prepared)
                _deferred_checks_run()
                locked.state = ChunkState.DONE
                locked.result = result or {}
                locked.errors = errors or []
                locked.save(update_fields=["state", "result", "errors", "updated_at"])
                Job.objects.filter(pk=job.pk).update(progress_done=F("progress_done") + locked.size)
            break
        except ChunkContinues:
            _chunk_requeue(chunk_id)
            return "continued"
        except DatabaseError as exc:
            sqlstate = getattr(getattr(exc, "__cause__", None), "sqlstate", None)
            if sqlstate in RETRYABLE_SQLSTATES and attempt < CHUNK_ATTEMPTS - 1:
                time.sleep(0.05 * (attempt + 1))
                continue
            _chunk_fail(chunk_id, exc)
            break
        except Exception as exc:
            _chunk_fail(chunk_id, exc)
            break
    job_finalize_if_complete(job_id=job.pk)
    return "done"


def _deferred_checks_run() -> None:
    """The chunk's deferred constraint checks (foreign keys of thousands of written rows) run
    now, not at commit: the job's row, which every finishing chunk updates next, is then
    locked only for that update and the commit, and chunks finish side by side."""
    if connection.vendor == "postgresql":  # SET CONSTRAINTS ALL IMMEDIATE, then DEFERRED
        connection.check_constraints()


def _chunk_requeue(chunk_id: int) -> None:
    """Back to pending with a fresh lease, and a new task for it (the sweeper queues it when
    the lease runs out if the broker cannot be reached now)."""
    from .tasks import chunk_run_task

    JobChunk.objects.filter(pk=chunk_id).exclude(state=ChunkState.DONE).update(
        state=ChunkState.PENDING,
        lease_expires_at=timezone.now() + timedelta(seconds=_lease_seconds()),
        updated_at=timezone.now(),
    )
    try:
        chunk_run_task.delay(chunk_id=chunk_id)
    except Exception:
        logger.warning("chunk %s not re-queued; the sweeper will queue it", chunk_id)


def _chunk_fail(chunk_id: int, exc: Exception) -> None:
    logger.exception("chunk %s failed", chunk_id)
    JobChunk.objects.filter(pk=chunk_id).exclude(state=ChunkState.DONE).update(
        state=ChunkState.FAILED,
        errors=[_public_error(exc)],
        updated_at=timezone.now(),
    )


def job_finalize_if_complete(*, job_id: int) -> Job | None:
    """Completes a running job once no chunk is left: sums the chunks' counts, gathers their
    errors. Runs under the job's row lock, so only one caller completes it; while chunks are
    left, it returns without waiting for that lock."""
    unfinished = [ChunkState.PENDING, ChunkState.RUNNING]
    if JobChunk.objects.filter(job_id=job_id, state__in=unfinished).exists():
        return None
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status != JobStatus.RUNNING:
            return None
        chunks = list(JobChunk.objects.filter(job=job).values("state", "result", "errors"))
        if any(c["state"] in unfinished for c in chunks):
            return None
        result: dict = {}
        errors: list = []
        for chunk in chunks:
            for key, value in (chunk["result"] or {}).items():
                if isinstance(value, int | float):
                    result[key] = result.get(key, 0) + value
            errors.extend(chunk["errors"] or [])
        errors.sort(key=lambda e: (e.get("line") is None, e.get("line") or 0))
        failed = any(c["state"] == ChunkState.FAILED for c in chunks)
        job.result = {**(job.result or {}), **result}
        status = JobStatus.FAILED if failed else JobStatus.SUCCEEDED
        _finish(job, status, errors=errors)
        if status == JobStatus.SUCCEEDED:
            handler = handler_get(job.handler)
            if handler.on_success:
                transaction.on_commit(lambda: handler.on_success(job))
    return job


def _finish(job: Job, status: str, *, errors=None) -> None:
    job.status = status
    job.finished_at = timezone.now()
    if errors is not None:
        if len(errors) > MAX_JOB_ERRORS:
            extra = len(errors) - MAX_JOB_ERRORS
            errors = [*errors[:MAX_JOB_ERRORS], _error(f"… and {extra} more errors")]
        job.errors = errors
    job.save(update_fields=["status", "finished_at", "errors", "result"])
    _publish_finished(job)


def _publish_finished(job: Job) -> None:
    from notifications.events import publish

    publish(
        workspace=job.workspace,
        event_type="job.finished",
        data={
            "id": job.pk,
            "kind": job.kind,
            "status": job.status,
            "result": job.result or {},
            "errors": len(job.errors or []),
            "created_by": job.created_by,
            "created_at": job.created_at.isoformat() if job.created_at else None,
            "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        },
    )


def job_cancel(*, job: Job, actor: Actor = SYSTEM) -> Job:
    """Stops a queued or running job: chunks not yet started are skipped; a chunk already
    in its transaction finishes (its changes are whole)."""
    with transaction.atomic():
        locked = Job.objects.select_for_update().get(pk=job.pk)
        if locked.status not in ACTIVE_STATUSES:
            raise ConflictError(f"the job is already {locked.status}")
        locked.status = JobStatus.CANCELLED
        locked.finished_at = timezone.now()
        locked.save(update_fields=["status", "finished_at"])
        audit_record(
            workspace=locked.workspace,
            actor=actor,
            action="cancel",
            obj=locked,
            before={"status": job.status},
            after={"status": locked.status},
        )
        _publish_finished(locked)
    return locked


def job_resume(*, job: Job, expired_only: bool = True) -> list[int]:
    """Re-queues the unfinished chunks of a running job (by default only those whose lease
    expired: their worker died or their message was lost). Returns the chunk ids queued."""
    from .tasks import chunk_run_task

    now = timezone.now()
    with transaction.atomic():
        chunks = JobChunk.objects.select_for_update().filter(
            job=job,
            job__status=JobStatus.RUNNING,
            state__in=[ChunkState.PENDING, ChunkState.RUNNING],
        )
        if expired_only:
            chunks = chunks.filter(lease_expires_at__lt=now)
        chunk_ids = list(chunks.values_list("id", flat=True))
        JobChunk.objects.filter(pk__in=chunk_ids).update(
            state=ChunkState.PENDING,
            lease_expires_at=now + timedelta(seconds=_lease_seconds()),
            updated_at=now,
        )
    for chunk_id in chunk_ids:
        chunk_run_task.delay(chunk_id=chunk_id)
    return chunk_ids


def job_sweep() -> dict:
    """Periodic: starts queued jobs whose start message was lost and re-queues chunks whose
    lease expired. Every step is idempotent, so running it twice does no harm."""
    from .tasks import job_start_task

    grace = timezone.now() - timedelta(seconds=_lease_seconds())
    stale_queued = list(
        Job.objects.filter(status=JobStatus.QUEUED, created_at__lt=grace).values_list(
            "id", flat=True
        )
    )
    for job_id in stale_queued:
        job_start_task.delay(job_id=job_id)
    requeued = 0
    for job in Job.objects.filter(
        status=JobStatus.RUNNING,
        chunks__state__in=[ChunkState.PENDING, ChunkState.RUNNING],
        chunks__lease_expires_at__lt=timezone.now(),
    ).distinct():
        requeued += len(job_resume(job=job))
    return {"started": len(stale_queued), "requeued": requeued}


def chunk_checkpoint(
    *, job_id: int, index: int, payload: dict, done: int | None = None, total: int | None = None
) -> bool:
    """A long chunk's milestone (e.g. a CRM page written): its payload saved so that a retry
    resumes from there, its lease renewed, the job's progress moved. Call it in the
    transaction that wrote the milestone's work. False when the job stopped running
    (cancelled): the chunk should stop too."""
    now = timezone.now()
    JobChunk.objects.filter(job_id=job_id, index=index).update(
        payload=payload,
        lease_expires_at=now + timedelta(seconds=_lease_seconds()),
        updated_at=now,
    )
    progress = {}
    if done is not None:
        progress["progress_done"] = done
    if total is not None:
        progress["progress_total"] = total
    if progress:
        Job.objects.filter(pk=job_id).update(**progress)
    return Job.objects.filter(pk=job_id, status=JobStatus.RUNNING).exists()
