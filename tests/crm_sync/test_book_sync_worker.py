"""The book sync on real Celery workers over a real Redis broker: the worker paging through
a Salesforce Bulk API 2.0 result is killed with SIGKILL mid-import; once its lease runs out
the sweeper hands the chunk to another worker, which resumes from the last page saved on the
chunk (same Bulk API job, no page read from the start again): every account exactly once."""

import os
import signal
import time

import pytest
from rest_framework.test import APIClient

from book.models import Account
from jobs import services as job_services
from jobs.models import Job
from tests.book.test_worker_e2e import LEASE_SECONDS, _job_done, workers
from tests.factories import api_key_for
from tests.workers import wait_for

from .test_book_sync_salesforce import account
from .test_sync_salesforce import salesforce

__all__ = ["workers"]  # the fixture, shared with the book's worker tests
pytestmark = pytest.mark.skipif(
    not __import__("shutil").which("redis-server"), reason="needs redis-server"
)
ACCOUNTS = 3000
PAGE = 100


def test_a_worker_killed_mid_import_is_resumed_from_its_last_page(fake_sf, workers, workspace):
    # fake_sf first: its CA bundle (REQUESTS_CA_BUNDLE) is in the environment workers get
    fake_sf.accounts = [account(n) for n in range(ACCOUNTS)]
    fake_sf.results_latency = 0.05
    connection = salesforce(workspace, fake_sf)
    connection.settings = {**connection.settings, "bulk_page_size": PAGE, "bulk_threshold": 10}
    connection.save()
    first = workers()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_for(workspace)}")

    job_id = client.post(f"/api/v1/crm-connections/{connection.pk}/sync-book/").json()["id"]
    assert wait_for(lambda: Job.objects.get(pk=job_id).progress_done >= 5 * PAGE), "no progress"
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    job = Job.objects.get(pk=job_id)
    assert job.status == "running"
    assert job.progress_done < ACCOUNTS, "the worker finished before it was killed"
    saved = job.chunks.get().payload["cursor"]["locator"]
    read_before = len(fake_sf.bulk_results)

    workers()
    time.sleep(LEASE_SECONDS + 0.5)  # the killed worker's lease runs out
    assert job_services.job_sweep()["requeued"] == 1
    assert wait_for(_job_done(job_id)), "the job was not finished"

    job.refresh_from_db()
    assert job.status == "succeeded", job.errors
    assert len(fake_sf.bulk_jobs) == 1  # the same Bulk API query job
    resumed_at = fake_sf.bulk_results[read_before][1]
    assert int(resumed_at) == int(saved)  # from the page after the last one written
    assert job.result["accounts_created"] == ACCOUNTS
    assert job.progress_done == ACCOUNTS
    assert Account.objects.filter(workspace=workspace).count() == ACCOUNTS
