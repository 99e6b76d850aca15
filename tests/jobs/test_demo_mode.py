"""Demo mode (no broker): a job runs in a background thread after the request's commit,
never inside the request."""

import threading
import time

import pytest

from book.models import Account
from jobs.models import Job
from tests.book.factories import AccountFactory
from tests.book.helpers import us_territory


@pytest.mark.django_db(transaction=True)
def test_the_request_returns_before_the_job_runs_in_a_thread(api, workspace, settings):
    settings.JOBS_EAGER_MODE = "thread"
    territory, _ = us_territory(workspace)
    AccountFactory(workspace=workspace)
    started = threading.Event()
    original_start = threading.Thread.start

    def spy(thread):  # records that the job went to a thread, then starts it as usual
        started.set()
        return original_start(thread)

    threading.Thread.start = spy
    try:
        response = api.post(f"/api/v1/territory-plans/{territory.plan_id}/reevaluate/")
    finally:
        threading.Thread.start = original_start
    assert response.status_code == 202
    assert response.json()["status"] == "queued"  # answered before any work
    assert started.is_set()

    deadline = time.monotonic() + 20
    while Job.objects.get(pk=response.json()["id"]).status != "succeeded":
        assert time.monotonic() < deadline, "the background job did not finish"
        time.sleep(0.1)
    assert Account.objects.get().owner is not None
