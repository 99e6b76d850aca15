"""Delivery from the outbox to real local receivers, in-process: exponential backoff for the
retry window, then `failed`; the receiver's body never kept; a URL that turned private is not
called; two drains at once never send a row twice."""

import threading
from datetime import timedelta

import pytest
from django.utils import timezone

from notifications import services
from notifications.events import publish
from notifications.models import WebhookDelivery
from revorg.errors import ConflictError

from .factories import endpoint_for, receiving_endpoint
from .receiver import Receiver, free_port


@pytest.fixture
def receiver_and_endpoint(workspace):
    receiver, endpoint = receiving_endpoint(workspace)
    yield receiver, endpoint
    receiver.stop()


def test_the_backoff_doubles_from_30_seconds_up_to_4_hours_for_24_hours(settings):
    assert [services.backoff_delay(n).total_seconds() for n in range(1, 11)] == [
        30, 60, 120, 240, 480, 960, 1920, 3840, 7680, 14400,
    ]  # fmt: skip
    schedule = services.backoff_schedule()
    assert schedule[:4] == [timedelta(0), timedelta(seconds=30), timedelta(seconds=90),
                            timedelta(seconds=210)]  # fmt: skip
    assert schedule[-1] <= timedelta(hours=24) < schedule[-1] + timedelta(hours=4)
    assert len(schedule) == 14  # 10 doubling waits, then every 4 hours until the day is over


def test_a_failing_receiver_is_retried_on_the_schedule_then_failed(workspace, settings):
    receiver = Receiver().start()
    try:
        _, receiver.secret = endpoint_for(workspace, receiver.url)
        receiver.status, receiver.body = 503, b"<html>stack trace with secrets</html>"
        publish(workspace=workspace, event_type="job.finished", data={"id": 1})
        delivery = WebhookDelivery.objects.get()
        for attempt in range(1, 4):
            before = timezone.now()
            services.webhook_drain_all()
            delivery.refresh_from_db()
            assert delivery.status == "pending" and delivery.attempts == attempt
            assert delivery.response_code == 503 and delivery.last_error == "HTTP 503"
            wait = services.backoff_delay(attempt)
            assert before + wait <= delivery.next_attempt_at <= timezone.now() + wait
            # Not due yet: a drain now leaves it alone.
            assert services.webhook_drain_all()["retrying"] == 0
            WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
        # The window closes before the next wait would end: failed, nothing more planned.
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            retry_until=timezone.now() + timedelta(seconds=10)
        )
        services.webhook_drain_all()
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("failed", 4, None)
        assert "stack trace" not in delivery.last_error
    finally:
        receiver.stop()


def test_a_receiver_that_is_down_is_retried_and_the_error_is_ours(workspace):
    endpoint_for(workspace, f"http://127.0.0.1:{free_port()}/down")
    publish(workspace=workspace, event_type="job.finished", data={"id": 1})
    services.webhook_drain_all()
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.response_code, delivery.last_error) == (
        "pending",
        None,
        "connection failed",
    )


def test_a_url_that_became_private_is_not_called(workspace, settings, receiver_and_endpoint):
    receiver, _ = receiver_and_endpoint
    settings.CRM_ALLOW_PRIVATE_HOSTS = False  # 127.0.0.1 is refused from now on
    publish(workspace=workspace, event_type="job.finished", data={"id": 1})
    services.webhook_drain_all()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "pending" and delivery.last_error.startswith("URL refused")
    assert receiver.ids() == []


def test_a_disabled_endpoint_gets_no_new_events_and_keeps_waiting_ones_for_the_window(
    workspace, receiver_and_endpoint
):
    receiver, endpoint = receiver_and_endpoint
    publish(workspace=workspace, event_type="job.finished", data={"id": 1})
    services.webhook_endpoint_update(endpoint=endpoint, is_active=False)
    publish(workspace=workspace, event_type="job.finished", data={"id": 2})
    services.webhook_drain_all()
    assert receiver.ids() == [] and WebhookDelivery.objects.get().status == "pending"

    WebhookDelivery.objects.update(retry_until=timezone.now() - timedelta(seconds=1))
    assert services.webhook_sweep() == {"expired": 1, "due": False}
    assert WebhookDelivery.objects.get().status == "failed"


def test_the_message_is_a_standard_webhook_with_the_event(workspace, receiver_and_endpoint):
    receiver, _ = receiver_and_endpoint
    publish(workspace=workspace, event_type="plan.activated", data={"id": 3, "name": "FY27"})
    services.webhook_drain_all()
    (accepted,) = receiver.accepted
    delivery = WebhookDelivery.objects.get()
    assert accepted["id"] == f"msg_{delivery.pk}"
    assert accepted["payload"]["type"] == "plan.activated"
    assert accepted["payload"]["data"] == {"id": 3, "name": "FY27"}
    assert accepted["payload"]["timestamp"].endswith("Z")
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("succeeded", 1, 204)


@pytest.mark.parametrize("status", [204, 503])
def test_a_drain_takes_two_statements_per_batch_whatever_the_outcome(
    workspace, settings, receiver_and_endpoint, django_assert_num_queries, status
):
    """The claim is one statement (lease, endpoint and event together), the outcomes one
    more (successes per response code, failures in bulk); then the empty claim that ends
    the drain and the look-up of the next retry."""
    settings.WEBHOOK_BATCH_SIZE = 10
    receiver, _ = receiver_and_endpoint
    receiver.status = status
    for n in range(30):
        publish(workspace=workspace, event_type="job.finished", data={"id": n})
    with django_assert_num_queries(3 * 2 + 2):
        totals = services.webhook_drain_all()
    outcome = "succeeded" if status == 204 else "retrying"
    assert totals[outcome] == 30
    assert WebhookDelivery.objects.filter(attempts=1, response_code=status).count() == 30
    assert not WebhookDelivery.objects.filter(claimed_until__isnull=False).exists()


@pytest.mark.django_db(transaction=True)
def test_two_drains_at_once_never_send_a_delivery_twice(workspace, settings):
    settings.WEBHOOK_BATCH_SIZE = 10
    receiver, _ = receiving_endpoint(workspace)
    try:
        for n in range(120):
            publish(workspace=workspace, event_type="job.finished", data={"id": n})
        threads = [threading.Thread(target=services.webhook_drain_all) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        ids = receiver.ids()
        assert len(ids) == len(set(ids)) == 120
        assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"succeeded"}
    finally:
        receiver.stop()


@pytest.mark.django_db(transaction=True)
def test_concurrent_redeliveries_leave_one_pending_delivery(workspace):
    endpoint, _ = endpoint_for(workspace, f"http://127.0.0.1:{free_port()}/x")
    publish(workspace=workspace, event_type="job.finished", data={"id": 1})
    delivery = WebhookDelivery.objects.get()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status="failed", attempts=14)
    results, barrier = [], threading.Barrier(2)

    def redeliver():
        barrier.wait()
        try:
            results.append(services.webhook_redeliver(delivery=delivery).status)
        except ConflictError:  # the other one's attempt was in flight at that moment
            results.append("in flight")

    threads = [threading.Thread(target=redeliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert "pending" in results and set(results) <= {"pending", "in flight"}
    assert WebhookDelivery.objects.filter(endpoint=endpoint).count() == 1
    delivery.refresh_from_db()
    # Each redelivery's commit drained at once (demo mode, inline): the receiver is down, so
    # the row stays pending, tried again by one or both, never failed and never duplicated.
    assert delivery.status == "pending" and 15 <= delivery.attempts <= 14 + results.count("pending")
