"""The chunked job runner: progress per chunk, a chunk takes effect once, leases let a dead
worker's chunks be resumed, cancel, failures, and the read-only jobs API."""

from datetime import timedelta

import pytest
from django.utils import timezone

from allocation.models import Allocation
from book import services as book_services
from jobs import services
from jobs.models import ChunkState, Job, JobChunk
from tests.book.factories import AccountFactory
from tests.book.helpers import us_territory

pytestmark = pytest.mark.django_db


def _queued_reevaluation(workspace, settings, *, chunk_size=2):
    """A re-evaluation job created but not started (its on-commit dispatch is not run)."""
    settings.BOOK_CHUNK_SIZE = chunk_size
    return book_services.book_reevaluate_start(workspace=workspace, actor_label="tests")


def test_a_job_is_planned_into_chunks_and_completes_with_progress(workspace, settings):
    us_territory(workspace)
    for _ in range(5):
        AccountFactory(workspace=workspace)
    job = _queued_reevaluation(workspace, settings)

    chunk_ids = services.job_start(job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.progress_total, job.progress_done) == ("running", 5, 0)
    assert sorted(c.size for c in job.chunks.all()) == [1, 2, 2]
    assert job.chunks.get(pk=chunk_ids[0]).size == 2

    services.chunk_run(chunk_id=chunk_ids[0])
    job.refresh_from_db()
    assert (job.status, job.progress_done) == ("running", 2)

    for chunk_id in chunk_ids[1:]:
        services.chunk_run(chunk_id=chunk_id)
    job.refresh_from_db()
    assert (job.status, job.progress_done) == ("succeeded", 5)
    assert job.result["evaluated"] == 5
    assert job.started_at <= job.finished_at


def test_a_chunk_delivered_twice_takes_effect_once(workspace, settings):
    us_territory(workspace)
    for _ in range(2):
        AccountFactory(workspace=workspace)
    job = _queued_reevaluation(workspace, settings)
    [chunk_id] = services.job_start(job_id=job.pk)

    assert services.chunk_run(chunk_id=chunk_id) == "done"
    assert services.chunk_run(chunk_id=chunk_id) == "skipped"

    assert Allocation.objects.filter(record_type="account").count() == 2
    job.refresh_from_db()
    assert job.progress_done == 2


def test_a_chunk_claimed_by_a_live_worker_is_not_taken_twice_until_its_lease_expires(
    workspace, settings
):
    us_territory(workspace)
    AccountFactory(workspace=workspace)
    job = _queued_reevaluation(workspace, settings)
    [chunk_id] = services.job_start(job_id=job.pk)
    # A worker claimed it and died before committing: state running, lease in the future.
    JobChunk.objects.filter(pk=chunk_id).update(
        state=ChunkState.RUNNING, lease_expires_at=timezone.now() + timedelta(minutes=5)
    )
    assert services.chunk_run(chunk_id=chunk_id) == "skipped"
    assert services.job_resume(job=job) == []  # the lease has not expired

    JobChunk.objects.filter(pk=chunk_id).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert services.job_sweep() == {"started": 0, "requeued": 1}  # eager: runs it now

    job.refresh_from_db()
    assert job.status == "succeeded"
    assert JobChunk.objects.get(pk=chunk_id).attempts == 1


def test_the_sweeper_starts_a_job_whose_start_message_was_lost(workspace, settings):
    us_territory(workspace)
    AccountFactory(workspace=workspace)
    job = _queued_reevaluation(workspace, settings)
    Job.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(hours=1))

    assert services.job_sweep()["started"] == 1

    job.refresh_from_db()
    assert job.status == "succeeded"


def test_a_cancelled_job_runs_no_further_chunk(workspace, settings):
    us_territory(workspace)
    for _ in range(4):
        AccountFactory(workspace=workspace)
    job = _queued_reevaluation(workspace, settings)
    chunk_ids = services.job_start(job_id=job.pk)
    services.chunk_run(chunk_id=chunk_ids[0])

    services.job_cancel(job=job)
    assert services.chunk_run(chunk_id=chunk_ids[1]) == "skipped"

    job.refresh_from_db()
    assert (job.status, job.progress_done) == ("cancelled", 2)
    assert Allocation.objects.filter(record_type="account").count() == 2


def test_a_failing_chunk_fails_the_job_with_its_error(workspace, settings):
    """A handler raising (here: an account row the decision cannot read) fails its chunk, and
    the job ends failed with the error, instead of hanging as running."""
    us_territory(workspace)
    AccountFactory(workspace=workspace)
    job = _queued_reevaluation(workspace, settings)
    [chunk_id] = services.job_start(job_id=job.pk)
    JobChunk.objects.filter(pk=chunk_id).update(payload={"min_id": "x", "max_id": None})

    services.chunk_run(chunk_id=chunk_id)

    job.refresh_from_db()
    assert job.status == "failed"
    [error] = job.errors
    assert error["line"] is None
    assert error["message"].startswith("ValueError")
    assert "'x'" not in error["message"]  # the exception's own text stays in the server log


def test_jobs_api_lists_and_shows_only_the_workspaces_jobs(api, other_api, workspace, settings):
    job = _queued_reevaluation(workspace, settings)

    listed = api.get("/api/v1/jobs/").json()
    assert [j["id"] for j in listed["results"]] == [job.pk]
    shown = api.get(f"/api/v1/jobs/{job.pk}/").json()
    assert shown["kind"] == "reevaluate"
    assert shown["status"] == "queued"
    assert shown["progress"] == {"done": 0, "total": 0}
    assert shown["errors"] == []
    assert other_api.get(f"/api/v1/jobs/{job.pk}/").status_code == 404
    assert other_api.post(f"/api/v1/jobs/{job.pk}/cancel/").status_code == 404
    assert other_api.get("/api/v1/jobs/").json()["count"] == 0


def test_cancel_through_the_api(api, make_client, workspace, settings):
    job = _queued_reevaluation(workspace, settings)
    reader = make_client(workspace, scopes="read")
    assert reader.post(f"/api/v1/jobs/{job.pk}/cancel/").status_code == 403

    response = api.post(f"/api/v1/jobs/{job.pk}/cancel/")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    again = api.post(f"/api/v1/jobs/{job.pk}/cancel/")
    assert again.status_code == 409


def test_jobs_are_read_only(api, workspace, settings):
    job = _queued_reevaluation(workspace, settings)
    assert api.post("/api/v1/jobs/", {}, format="json").status_code == 405
    assert api.delete(f"/api/v1/jobs/{job.pk}/").status_code == 405


@pytest.mark.django_db(transaction=True)
def test_a_worker_claims_a_chunk_without_waiting_for_the_job_row(settings):
    """Every finishing chunk updates its job's row (the progress) and holds that row until
    it commits. Another worker claiming its next chunk, or finding chunks left after its
    own, does not queue behind it: the chunks of a job finish side by side."""
    import psycopg
    from django.db import connection

    from tests.factories import WorkspaceFactory

    settings.BOOK_CHUNK_SIZE = 2
    workspace = WorkspaceFactory()
    us_territory(workspace)
    for _ in range(4):
        AccountFactory(workspace=workspace)
    job = book_services.book_reevaluate_start(
        workspace=workspace, actor_label="tests", dispatch=False
    )
    first, second = services.job_start(job_id=job.pk)
    with psycopg.connect(**connection.get_connection_params()) as other:
        other.execute("SELECT 1 FROM jobs_job WHERE id = %s FOR UPDATE", [job.pk])
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '1s'")
        try:
            claimed = services._claim(first)
            finished = services.job_finalize_if_complete(job_id=job.pk)
        finally:
            with connection.cursor() as cursor:
                cursor.execute("RESET lock_timeout")
        other.rollback()

    assert claimed is not None and claimed.state == ChunkState.RUNNING
    assert finished is None
    assert services.chunk_run(chunk_id=second) == "done"
