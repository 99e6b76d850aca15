"""The webhooks page in headless Chromium: an admin adds an endpoint, copies the secret that
is shown once (a reload never shows it again), sees the deliveries a real local receiver
accepted or refused, and redelivers one."""

import pytest

from notifications.events import publish
from notifications.models import WebhookDelivery, WebhookEndpoint
from notifications.services import endpoint_secret
from tests.factories import MembershipFactory
from tests.notifications.receiver import Receiver

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "pw-for-tests-1"


def test_admin_creates_a_webhook_sees_the_secret_once_and_redelivers(
    page, login, shot, workspace, settings
):
    settings.WEBHOOK_EAGER_MODE = "inline"
    admin = MembershipFactory(workspace=workspace, role="admin").user
    receiver = Receiver().start()
    try:
        login(admin.username, PASSWORD)
        page.goto("/webhooks/")
        page.fill("[data-testid=webhook-create] input[name=url]", receiver.url)
        page.check("[data-testid=webhook-create] input[value='job.finished']")
        page.click("[data-testid=webhook-create] button")
        secret = page.inner_text("[data-testid=webhook-secret] code").strip()
        endpoint = WebhookEndpoint.objects.get()
        assert secret.startswith("whsec_") and secret == endpoint_secret(endpoint)
        assert receiver.url in page.inner_text("[data-testid=webhook-endpoints]")
        shot("webhooks_created")

        page.goto("/webhooks/")  # the page again: the secret is gone for good
        assert page.locator("[data-testid=webhook-secret]").count() == 0
        assert secret not in page.content()

        receiver.secret = secret
        publish(workspace=workspace, event_type="job.finished", data={"id": 1, "kind": "import"})
        receiver.status = 500
        publish(workspace=workspace, event_type="job.finished", data={"id": 2, "kind": "sync"})
        receiver.status = 204
        page.click(f"text={receiver.url}")
        page.wait_for_url(f"**/webhooks/{endpoint.pk}/")
        rows = page.locator("[data-testid=webhook-deliveries] tbody tr")
        assert rows.count() == 2
        table = page.inner_text("[data-testid=webhook-deliveries]")
        assert "succeeded" in table and "pending" in table and "HTTP 500" in table
        assert secret not in page.content()
        shot("webhook_deliveries")

        failed = WebhookDelivery.objects.get(status="pending")
        page.click(f"tr[data-delivery='{failed.pk}'] button")
        page.wait_for_selector(".messages")
        assert f"Delivery {failed.pk} queued again" in page.inner_text(".messages")
        failed.refresh_from_db()
        assert failed.status == "succeeded" and failed.attempts == 2
        assert receiver.ids().count(failed.message_id) == 1
        shot("webhook_redelivered")
    finally:
        receiver.stop()
