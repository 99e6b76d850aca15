"""Placing the book on real Celery workers over a real Redis broker: the API's 202 job is
run in chunks by two worker processes, every account gets exactly one place, and a large
book's summary job follows it."""

import pytest
from rest_framework.test import APIClient

from book.models import Account
from geo.models import AccountPlace, MapSnapshot
from jobs.models import Job
from tests.book.test_worker_e2e import _job_done, workers  # noqa: F401
from tests.factories import api_key_for
from tests.workers import wait_for

pytestmark = pytest.mark.skipif(
    not __import__("shutil").which("redis-server"), reason="needs redis-server"
)


@pytest.fixture
def large_book_limit(monkeypatch, settings):
    """A book of more than 100 accounts counts as large, here and in the workers (their
    environment is taken when the `workers` fixture starts: this fixture comes first)."""
    monkeypatch.setenv("GEO_LIVE_MAX_ACCOUNTS", "100")
    settings.GEO_LIVE_MAX_ACCOUNTS = 100


def test_two_workers_place_the_book_and_summarize_it(large_book_limit, workers, workspace):  # noqa: F811
    Account.objects.bulk_create(
        Account(workspace=workspace, crm_id=f"ACC{i:05d}", name=f"Account {i}",
                fields={"country": "US", "postal_code": "94105" if i % 3 else "00000"})
        for i in range(450)
    )  # fmt: skip
    workers()
    workers()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_for(workspace)}")
    response = client.post("/api/v1/analytics/map/locate/")
    assert response.status_code == 202
    job_id = response.json()["id"]
    assert wait_for(_job_done(job_id)), "the locate job did not finish"
    job = Job.objects.get(pk=job_id)
    assert job.status == "succeeded" and job.progress_done == 450
    assert job.result == {"placed": 450, "located": 300, "unresolved": 150}
    assert AccountPlace.objects.filter(workspace=workspace).count() == 450
    # A large book: the workers summarize it once placed.
    assert wait_for(lambda: MapSnapshot.objects.filter(workspace=workspace).exists())
    assert MapSnapshot.objects.get(workspace=workspace).accounts == 450
    regions = client.get("/api/v1/analytics/map/regions/").json()
    assert regions["placement"] == {
        "accounts": 450,
        "located": 300,
        "unresolved": 150,
        "pending": 0,
    }
    assert regions["as_of"] is not None
