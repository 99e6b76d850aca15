"""End to end on a real Celery worker and Redis broker, against a real local receiver that
verifies every delivery with `standardwebhooks`: allocations made through the API while the
receiver is down are retried with backoff (the drain re-queues itself, no beat needed) and,
once it is up, each arrives exactly once per delivery id; a redelivery through the API
arrives again under the same id."""

import pytest
from rest_framework.test import APIClient

from allocation.models import Allocation
from notifications.models import WebhookDelivery
from tests.book.helpers import us_territory
from tests.factories import api_key_for
from tests.workers import wait_for

from .factories import endpoint_for
from .receiver import Receiver

pytestmark = [
    pytest.mark.skipif(not __import__("shutil").which("redis-server"), reason="needs redis"),
    pytest.mark.celery_worker,
]
RECORDS = 12


@pytest.fixture
def worker(celery_processes):
    """One worker, whose retries come after 0.3 s, 0.6 s, then every second."""
    celery_processes.env.update(
        CRM_ALLOW_PRIVATE_HOSTS=1, WEBHOOK_RETRY_BASE_SECONDS=0.3, WEBHOOK_RETRY_MAX_SECONDS=1
    )
    return celery_processes.worker(queues="celery")


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
    assert wait_for(lambda: not deliveries.filter(attempts__lt=2).exists())
    assert set(deliveries.values_list("status", flat=True)) == {"pending"}
    assert set(deliveries.values_list("last_error", flat=True)) == {"connection failed"}

    receiver.start()
    try:
        assert wait_for(lambda: deliveries.filter(status="succeeded").count() == RECORDS)
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
        assert wait_for(lambda: receiver.ids().count(one.message_id) == 2)
        assert receiver.refused == []  # signed afresh: its timestamp is the new attempt's
        one.refresh_from_db()
        assert one.status == "succeeded"
    finally:
        receiver.stop()
