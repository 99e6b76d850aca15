"""End to end with a real Celery worker process on a real Redis broker: an allocation's owner
reaches the (fake) CRM through the worker; with the broker down at allocation time nothing
is lost and the sweeper delivers it, once, when Redis is back."""

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection as db
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

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(not shutil.which("redis-server"), reason="needs redis-server")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Broker:
    """A Redis of our own, so that this test can stop it without touching anyone else's."""

    def __init__(self):
        self.port = _free_port()
        self.process = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        for _ in range(100):
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture
def broker():
    broker = Broker()
    broker.start()
    yield broker
    if broker.process.poll() is None:
        broker.stop()


@pytest.fixture
def worker(transactional_db, broker, fake_sf):
    """`celery worker` on the broker and the test database; the test process publishes to
    the same broker instead of running tasks eagerly."""
    settings = db.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/"
        f"{settings['NAME']}",
        "CELERY_BROKER_URL": broker.url,
        "SECRET_KEY": os.environ.get("SECRET_KEY", "test-only-secret"),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "revorg", "worker", "-Q", "crm,celery",
         "--pool", "solo", "--without-heartbeat", "--without-gossip", "--without-mingle",
         "-l", "warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    # The app reads Django settings under the CELERY_ namespace: override those keys.
    saved = app.conf.task_always_eager, app.conf.broker_url
    app.conf.update(CELERY_TASK_ALWAYS_EAGER=False, CELERY_BROKER_URL=broker.url)
    app._after_fork()  # drop connection pools bound to the old broker URL
    try:
        yield process
    finally:
        app.conf.update(CELERY_TASK_ALWAYS_EAGER=saved[0], CELERY_BROKER_URL=saved[1])
        app._after_fork()
        process.terminate()
        process.wait(timeout=30)


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


def _wait_for(condition, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_the_worker_writes_the_owner_to_the_crm(worker, fake_sf):
    assert not app.conf.task_always_eager  # published to Redis, run by the worker process
    client = _allocating_client(fake_sf)
    allocation = _allocate(client, "00Q000000000001")
    assert _wait_for(
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
    assert _wait_for(
        lambda: WritebackOutbox.objects.filter(status=WritebackStatus.SUCCEEDED).exists()
    ), "the sweeper did not deliver"
    assert fake_sf.owners == {"00Q000000000002": "005REP"}
    assert sum(len(call) for call in fake_sf.calls) == 1  # delivered once
    shown = client.get(f"/api/v1/allocations/{allocation['id']}/").json()
    assert shown["writeback"]["status"] == "succeeded"
