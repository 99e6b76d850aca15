"""End to end on a real Celery worker and Redis broker, against a real local receiver that
verifies every delivery with `standardwebhooks`: allocations made through the API while the
receiver is down are retried with backoff (the drain re-queues itself, no beat needed) and,
once it is up, each arrives exactly once per delivery id; a redelivery through the API
arrives again under the same id."""

import os
import signal
import subprocess
import sys
import time

import pytest
from django.db import connection as db
from rest_framework.test import APIClient

from allocation.models import Allocation
from notifications.models import WebhookDelivery
from revorg.celery import app
from tests.book.helpers import us_territory
from tests.crm_sync.test_worker_e2e import ROOT, Broker
from tests.factories import api_key_for

from .factories import endpoint_for
from .receiver import Receiver

pytestmark = [
    pytest.mark.skipif(not __import__("shutil").which("redis-server"), reason="needs redis"),
    pytest.mark.celery_worker,
]
RECORDS = 12


@pytest.fixture
def broker():
    broker = Broker()
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture
def worker(transactional_db, broker):
    db_settings = db.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db_settings['USER']}@{db_settings['HOST']}:"
        f"{db_settings['PORT']}/{db_settings['NAME']}",
        "CELERY_BROKER_URL": broker.url,
        "SECRET_KEY": os.environ.get("SECRET_KEY", "test-only-secret"),
        "CRM_ALLOW_PRIVATE_HOSTS": "1",
        "WEBHOOK_RETRY_BASE_SECONDS": "0.3",
        "WEBHOOK_RETRY_MAX_SECONDS": "1",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "revorg", "worker", "-Q", "celery",
         "--pool", "solo", "--without-heartbeat", "--without-gossip", "--without-mingle",
         "-l", "warning"],
        cwd=ROOT, env=env, start_new_session=True,
    )  # fmt: skip
    saved = app.conf.task_always_eager, app.conf.broker_url
    app.conf.update(CELERY_TASK_ALWAYS_EAGER=False, CELERY_BROKER_URL=broker.url)
    app._after_fork()
    try:
        yield process
    finally:
        app.conf.update(CELERY_TASK_ALWAYS_EAGER=saved[0], CELERY_BROKER_URL=saved[1])
        app._after_fork()
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def _wait_for(condition, seconds=90):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def test_a_receiver_down_then_up_gets_every_event_once_and_redelivery_works(worker, workspace):
    us_territory(workspace, reps=3)
    receiver = Receiver()  # not started: the receiver is down
    endpoint, receiver.secret = endpoint_for(workspace, receiver.url, ["allocation.created"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_for(workspace)}")
    for n in range(RECORDS):
        response = client.post(
            "/api/v1/allocations/",
            {"record": {"type": "lead", "id": f"L{n}", "fields": {"country": "US"}}},
            format="json",
        )
        assert response.status_code == 201, response.content
    deliveries = WebhookDelivery.objects.filter(endpoint=endpoint)
    assert deliveries.count() == RECORDS

    # Down: every delivery is tried, fails, and is retried on its backoff.
    assert _wait_for(lambda: not deliveries.filter(attempts__lt=2).exists())
    assert set(deliveries.values_list("status", flat=True)) == {"pending"}
    assert set(deliveries.values_list("last_error", flat=True)) == {"connection failed"}

    receiver.start()
    try:
        assert _wait_for(lambda: deliveries.filter(status="succeeded").count() == RECORDS)
        expected = {f"msg_{pk}" for pk in deliveries.values_list("pk", flat=True)}
        ids = receiver.ids()
        assert sorted(ids) == sorted(expected)  # every one, once per delivery id
        assert receiver.refused == []  # every signature verified
        payloads = receiver.payloads()
        assert {p["type"] for p in payloads} == {"allocation.created"}
        assert {p["data"]["id"] for p in payloads} == set(
            Allocation.objects.filter(workspace=workspace).values_list("pk", flat=True)
        )

        one = deliveries.order_by("pk").first()
        again = client.post(f"/api/v1/webhooks/{endpoint.pk}/deliveries/{one.pk}/redeliver/")
        assert again.status_code == 200, again.content
        assert _wait_for(lambda: receiver.ids().count(one.message_id) == 2)
        assert receiver.refused == []  # signed afresh: its timestamp is the new attempt's
        one.refresh_from_db()
        assert one.status == "succeeded"
    finally:
        receiver.stop()
