"""The webhook pages (create with the secret shown once, the delivery log, redeliver, enable
and delete), and the exception report page and e-mail: admins only, 403 for other roles."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from allocation.models import Allocation
from book.models import Account
from crm_sync.models import WritebackOutbox
from notifications import services
from notifications.events import publish
from notifications.models import WebhookDelivery, WebhookEndpoint
from sla.models import SlaClock
from tests.allocation.factories import AllocationFactory
from tests.book.factories import AccountFactory
from tests.factories import MembershipFactory

from .factories import endpoint_for

URL = "http://127.0.0.1:9/hooks"


def test_create_shows_the_secret_once(user_client, workspace):
    admin = user_client(workspace, role="admin")
    page = admin.post("/webhooks/", {"url": URL, "events": ["job.finished", "account.orphaned"]})
    assert page.status_code == 200
    endpoint = WebhookEndpoint.objects.get()
    secret = services.endpoint_secret(endpoint)
    assert secret in page.content.decode() and "shown only once" in page.content.decode()
    assert endpoint.events == ["job.finished", "account.orphaned"]
    for again in (admin.get("/webhooks/"), admin.get(f"/webhooks/{endpoint.pk}/")):
        assert again.status_code == 200 and secret not in again.content.decode()


def test_a_bad_url_is_a_400_naming_it(user_client, workspace):
    page = user_client(workspace, role="admin").post("/webhooks/", {"url": "ftp://x/y"})
    assert page.status_code == 400 and b'data-error="url"' in page.content
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize("role", ["viewer", "rep", "manager", "director"])
def test_webhook_and_report_pages_are_for_admins(user_client, workspace, role):
    endpoint, _ = endpoint_for(workspace, URL)
    client = user_client(workspace, role=role)
    for path in ("/webhooks/", f"/webhooks/{endpoint.pk}/", "/reports/exceptions/"):
        assert client.get(path).status_code == 403
    assert client.post("/webhooks/", {"url": URL}).status_code == 403
    assert client.post(f"/webhooks/{endpoint.pk}/delete/").status_code == 403
    assert WebhookEndpoint.objects.count() == 1


def test_the_delivery_log_redeliver_toggle_and_delete(
    user_client, workspace, django_capture_on_commit_callbacks
):
    endpoint, _ = endpoint_for(workspace, URL)
    publish(workspace=workspace, event_type="job.finished", data={"id": 1})
    delivery = WebhookDelivery.objects.get()
    WebhookDelivery.objects.update(status="failed", attempts=14, next_attempt_at=None)
    admin = user_client(workspace, role="admin")
    log = admin.get(f"/webhooks/{endpoint.pk}/").content.decode()
    assert f"msg_{delivery.pk}" in log and "job.finished" in log and "failed" in log

    response = admin.post(f"/webhooks/{endpoint.pk}/deliveries/{delivery.pk}/redeliver/")
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == "pending" and delivery.next_attempt_at is not None

    admin.post(f"/webhooks/{endpoint.pk}/toggle/")
    endpoint.refresh_from_db()
    assert not endpoint.is_active
    admin.post(f"/webhooks/{endpoint.pk}/delete/")
    assert not WebhookEndpoint.objects.exists() and not WebhookDelivery.objects.exists()


def _exceptions(workspace):
    member_alloc = AllocationFactory(workspace=workspace)
    Allocation.objects.create(workspace=workspace, status="unassigned", record_type="lead",
                              record_id="Q-UNASSIGNED")  # fmt: skip
    WritebackOutbox.objects.create(
        workspace=workspace, allocation=member_alloc, provider="hubspot", record_type="lead",
        record_id="HS-9", owner_crm_user_id="7", status="failed",
        last_error="HubSpot refused the request (HTTP 400)",
    )  # fmt: skip
    Allocation.objects.create(
        workspace=workspace, status="assigned", owner=member_alloc.owner, record_type="lead",
        record_id="Q-OVERRIDE", reassigned_from=member_alloc, reason="big customer",
        actor_label="boss", decision=[{"step": "eligibility", "outcome": "overridden"}],
    )  # fmt: skip
    orphans = [AccountFactory(workspace=workspace, status="orphaned") for _ in range(3)]
    Account.objects.filter(pk=orphans[0].pk).update(created_at=timezone.now() - timedelta(weeks=2))
    late = AllocationFactory(workspace=workspace, record_id="Q-LATE")
    SlaClock.objects.create(
        workspace=workspace, allocation=late, owner=late.owner, breaches=1,
        started_at=timezone.now() - timedelta(hours=3), due_at=timezone.now() - timedelta(hours=1),
        breached_at=timezone.now() - timedelta(hours=1), outcome="escalated to the manager",
    )  # fmt: skip


def test_the_exception_report_page_lists_what_went_wrong(user_client, workspace):
    _exceptions(workspace)
    page = user_client(workspace, role="admin").get("/reports/exceptions/")
    text = page.content.decode()
    assert page.status_code == 200
    assert "Unassigned records: 1" in text and "Q-UNASSIGNED" in text
    assert "Failed write-backs: 1" in text and "HS-9" in text
    assert "Overrides this week: 1" in text and "big customer" in text
    assert "SLA breaches this week: 1" in text and "Q-LATE" in text
    assert "escalated to the manager" in text
    assert "Orphaned accounts: 3" in text


def test_the_weekly_report_is_mailed_to_admins(workspace, other_workspace):
    _exceptions(workspace)
    MembershipFactory(workspace=workspace, role="admin", user__email="boss@example.com")
    MembershipFactory(workspace=workspace, role="manager", user__email="mgr@example.com")
    assert services.exception_report_send() == 1  # the other workspace has no admin
    (message,) = mail.outbox
    assert message.to == ["boss@example.com"]
    assert "Unassigned records: 1 in the queue" in message.body
    assert "Failed write-backs: 1" in message.body and "Overrides this week: 1" in message.body
    assert "SLA breaches this week: 1" in message.body and "Q-LATE" in message.body
    assert "Orphaned accounts: 3 now" in message.body
    weeks = [line for line in message.body.splitlines() if line.startswith("- week of")]
    assert sorted(int(line.rsplit(" ", 1)[1]) for line in weeks) == [1, 2]
