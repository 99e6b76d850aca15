"""End to end with a real Celery worker process on a real Redis broker: an allocation's owner
reaches the (fake) CRM through the worker; with the broker down at allocation time nothing
is lost and the sweeper delivers it, once, when Redis is back."""

import shutil

import pytest
from rest_framework.test import APIClient

from crm_sync.models import WritebackOutbox, WritebackStatus
from crm_sync.tasks import writeback_sweep
from revorg.celery import app
from tests.crm_sync.factories import CrmConnectionFactory
from tests.factories import (
    MemberFactory,
    TerritoryFactory,
    TerritorySlotFactory,
    WorkspaceFactory,
    api_key_for,
)
from tests.workers import wait_for

pytestmark = pytest.mark.skipif(not shutil.which("redis-server"), reason="needs redis-server")


@pytest.fixture
def worker(celery_processes, fake_sf):
    """A worker on the test's broker and database that trusts the fake Salesforce's CA (the
    `fake_sf` fixture sets REQUESTS_CA_BUNDLE before the worker starts)."""
    return celery_processes.worker(queues="crm,celery")


def _allocating_client(fake_sf):
    workspace = WorkspaceFactory()
    CrmConnectionFactory(
        workspace=workspace,
        provider="salesforce",
        settings={"instance_url": fake_sf.instance_url},
    )
    territory = TerritoryFactory(workspace=workspace)
    rep = MemberFactory(workspace=workspace, crm_provider="salesforce", crm_user_id="005REP")
    TerritorySlotFactory(territory=territory, member=rep)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_for(workspace)}")
    return client


def _allocate(client, record_id):
    record = {"type": "lead", "id": record_id, "crm": "salesforce", "fields": {}}
    response = client.post("/api/v1/allocations/", {"record": record}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_the_worker_writes_the_owner_to_the_crm(worker, fake_sf):
    assert not app.conf.task_always_eager  # published to Redis, run by the worker process
    client = _allocating_client(fake_sf)
    allocation = _allocate(client, "00Q000000000001")
    assert wait_for(
        lambda: WritebackOutbox.objects.filter(status=WritebackStatus.SUCCEEDED).exists()
    ), "the worker did not deliver"
    assert fake_sf.owners == {"00Q000000000001": "005REP"}
    shown = client.get(f"/api/v1/allocations/{allocation['id']}/").json()
    assert shown["writeback"]["status"] == "succeeded"


def test_broker_down_at_allocation_time_loses_nothing(worker, broker, fake_sf):
    client = _allocating_client(fake_sf)
    broker.stop()
    allocation = _allocate(client, "00Q000000000002")  # the drain cannot be queued
    assert WritebackOutbox.objects.get().status == WritebackStatus.PENDING

    broker.start()
    writeback_sweep.delay()  # what beat runs every minute
    assert wait_for(
        lambda: WritebackOutbox.objects.filter(status=WritebackStatus.SUCCEEDED).exists()
    ), "the sweeper did not deliver"
    assert fake_sf.owners == {"00Q000000000002": "005REP"}
    assert sum(len(call) for call in fake_sf.calls) == 1  # delivered once
    shown = client.get(f"/api/v1/allocations/{allocation['id']}/").json()
    assert shown["writeback"]["status"] == "succeeded"
