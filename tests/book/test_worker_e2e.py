"""Re-evaluation on real Celery workers over a real Redis broker: a worker killed by SIGKILL
mid-job loses nothing (another worker and the sweeper finish it, every account assigned
exactly once), a rerun changes nothing, and allocations of the same accounts racing the job
leave exactly one current owner each."""

import os
import signal
import threading
import time
from collections import Counter

import pytest
from django.db import connections
from rest_framework.test import APIClient

from allocation.models import Allocation
from book.models import Account
from jobs import services as job_services
from jobs.models import ChunkState, Job, JobChunk
from tests.book.helpers import us_territory
from tests.factories import api_key_for
from tests.workers import wait_for

pytestmark = pytest.mark.skipif(
    not __import__("shutil").which("redis-server"), reason="needs redis-server"
)
LEASE_SECONDS = 3
CHUNK = 100


@pytest.fixture
def workers(celery_processes, settings):
    """`workers()` starts one more worker; chunks of 100 accounts, leases of 3 s."""
    settings.JOBS_CHUNK_LEASE_SECONDS = LEASE_SECONDS
    celery_processes.env.update(JOBS_CHUNK_LEASE_SECONDS=LEASE_SECONDS, BOOK_CHUNK_SIZE=CHUNK)
    return celery_processes.worker


def _book(workspace, n):
    _, reps = us_territory(workspace, reps=3)
    Account.objects.bulk_create(
        Account(workspace=workspace, crm_id=f"ACC{i:06d}", name=f"Account {i}",
                fields={"country": "US"})
        for i in range(n)
    )  # fmt: skip
    return reps


def _current_entries_per_account(workspace) -> Counter:
    return Counter(
        Allocation.objects.filter(
            workspace=workspace, record_type="account", is_current=True
        ).values_list("record_id", flat=True)
    )


def _job_done(job_id):
    return lambda: Job.objects.get(pk=job_id).status in ("succeeded", "failed", "cancelled")


def test_a_worker_killed_mid_job_loses_nothing_and_a_rerun_changes_nothing(workers, workspace):
    reps = _book(workspace, 3000)
    first = workers()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_for(workspace)}")
    plan_id = reps[0].slots.get().territory.plan_id

    job_id = client.post(f"/api/v1/territory-plans/{plan_id}/reevaluate/").json()["id"]
    # Killed while it holds a chunk (not in the gap between two tasks, where nothing is lost
    # and the sweeper would have nothing to do).
    assert wait_for(
        lambda: Job.objects.get(pk=job_id).progress_done >= 3 * CHUNK
        and JobChunk.objects.filter(job_id=job_id, state=ChunkState.RUNNING).exists(),
        every=0.005,
    ), "no progress"
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    job = Job.objects.get(pk=job_id)
    assert job.status == "running"
    assert job.progress_done < job.progress_total, "the worker finished before it was killed"

    workers()
    time.sleep(LEASE_SECONDS + 0.5)  # the killed worker's chunk lease runs out
    assert job_services.job_sweep()["requeued"] >= 1
    assert wait_for(_job_done(job_id)), "the job was not finished"

    job.refresh_from_db()
    assert job.status == "succeeded", job.errors
    assert job.progress_done == job.progress_total == 3000
    assert job.result["entries"] == 3000
    per_account = _current_entries_per_account(workspace)
    assert len(per_account) == 3000 and set(per_account.values()) == {1}
    assert Allocation.objects.filter(record_type="account").count() == 3000
    books = Counter(Account.objects.values_list("owner_id", flat=True))
    assert set(books) == {rep.pk for rep in reps}
    assert max(books.values()) - min(books.values()) <= 1  # one rotation across chunks

    rerun_id = client.post(f"/api/v1/territory-plans/{plan_id}/reevaluate/").json()["id"]
    assert wait_for(_job_done(rerun_id))
    rerun = Job.objects.get(pk=rerun_id)
    assert rerun.status == "succeeded"
    assert (rerun.result["changed"], rerun.result["entries"]) == (0, 0)
    assert Allocation.objects.filter(record_type="account").count() == 3000


def test_allocations_racing_the_job_leave_one_current_owner(workers, workspace):
    reps = _book(workspace, 1500)
    plan_id = reps[0].slots.get().territory.plan_id
    workers()
    workers()  # two workers: chunks run in parallel
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_for(workspace)}")
    first_id = client.post(f"/api/v1/territory-plans/{plan_id}/reevaluate/").json()["id"]
    assert wait_for(_job_done(first_id))
    # The first rep leaves: a third of the book must move, while plays allocate the same
    # accounts through the API.
    leaving = reps[0]
    leaving.is_active = False
    leaving.save()
    moving = list(
        Account.objects.filter(owner=leaving).order_by("id").values_list("crm_id", flat=True)
    )
    raced = moving[::5][:60]

    key = api_key_for(workspace)
    failures = []

    def allocate(crm_ids):
        play = APIClient()
        play.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
        try:
            for crm_id in crm_ids:
                record = {"type": "account", "id": crm_id, "fields": {"country": "US"}}
                response = play.post("/api/v1/allocations/", {"record": record}, format="json")
                if response.status_code != 201:
                    failures.append((crm_id, response.status_code, response.content[:200]))
        finally:
            connections.close_all()

    job_id = client.post(f"/api/v1/territory-plans/{plan_id}/reevaluate/").json()["id"]
    threads = [threading.Thread(target=allocate, args=(raced[i::3],)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert wait_for(_job_done(job_id))

    assert failures == []
    assert Job.objects.get(pk=job_id).status == "succeeded"
    per_account = _current_entries_per_account(workspace)
    assert len(per_account) == 1500 and set(per_account.values()) == {1}
    current = dict(
        Allocation.objects.filter(
            workspace=workspace, record_type="account", is_current=True
        ).values_list("record_id", "owner_id")
    )
    owners = dict(Account.objects.values_list("crm_id", "owner_id"))
    assert owners == current  # the book's owner is the current entry's, for every account
    assert not Account.objects.filter(owner=leaving).exists()
