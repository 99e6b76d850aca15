"""`/webhooks/` as API.md says: the secret is write-only, generated `whsec_…` and shown once;
URLs are checked like CRM endpoints; another workspace's endpoint is a 404; only admins (keys:
`write` to change) manage them; bad input is a 400 naming the field and writes nothing."""

import base64

import pytest

from notifications.models import WebhookDelivery, WebhookEndpoint
from revorg.models import AuditEntry
from tests.factories import api_key_for

from .factories import endpoint_for, receiving_endpoint
from .receiver import Receiver

URL = "http://127.0.0.1:9/hooks"


def test_create_generates_a_secret_shown_once_and_never_again(api):
    created = api.post("/api/v1/webhooks/", {"url": URL, "events": ["job.finished"]}, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["url"] == URL and body["events"] == ["job.finished"] and body["is_active"]
    secret = body["secret"]
    assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) == 32

    for response in (
        api.get(f"/api/v1/webhooks/{body['id']}/"),
        api.get("/api/v1/webhooks/"),
        api.patch(f"/api/v1/webhooks/{body['id']}/", {"is_active": False}, format="json"),
    ):
        assert response.status_code == 200
        assert secret not in response.content.decode()
        assert "secret" not in response.content.decode()
    audit = AuditEntry.objects.filter(object_type__icontains="webhook")
    assert audit.count() == 2 and all(secret not in str(a.after) for a in audit)


def test_a_supplied_secret_is_used_and_still_not_shown_again(api):
    secret = "whsec_" + base64.b64encode(b"k" * 32).decode()
    created = api.post("/api/v1/webhooks/", {"url": URL, "secret": secret}, format="json")
    assert created.status_code == 201 and created.json()["secret"] == secret
    assert secret not in api.get(f"/api/v1/webhooks/{created.json()['id']}/").content.decode()


def test_empty_events_means_every_event(api, workspace):
    receiver, endpoint = receiving_endpoint(workspace)
    try:
        assert endpoint.events == []
        from notifications.events import publish

        publish(workspace=workspace, event_type="plan.activated", data={"id": 1})
        assert WebhookDelivery.objects.filter(endpoint=endpoint).count() == 1
    finally:
        receiver.stop()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://example.com/x"}, "url"),
        ({"url": "https://user:pw@example.com/x"}, "url"),
        ({"url": "https://example.com/x?token=1"}, "url"),
        ({"url": ""}, "url"),
        ({"url": URL, "events": ["allocation.made"]}, "events"),
        ({"url": URL, "events": "job.finished"}, "events"),
        ({"url": URL, "secret": "not-a-secret"}, "secret"),
        ({"url": URL, "secret": "whsec_c2hvcnQ="}, "secret"),
        ({"url": URL, "is_active": "maybe"}, "is_active"),
        ({}, "url"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_writes_nothing(api, body, field):
    response = api.post("/api/v1/webhooks/", body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not WebhookEndpoint.objects.exists()


def test_private_hosts_are_refused_unless_allowed(api, settings):
    settings.CRM_ALLOW_PRIVATE_HOSTS = False
    for url in ("http://127.0.0.1:8080/x", "http://169.254.169.254/latest", "http://10.0.0.5/x"):
        response = api.post("/api/v1/webhooks/", {"url": url}, format="json")
        assert response.status_code == 400 and "url" in response.json(), url
    assert not WebhookEndpoint.objects.exists()


def test_a_bad_url_in_an_update_changes_nothing(api, workspace):
    endpoint, _ = endpoint_for(workspace, URL)
    response = api.patch(
        f"/api/v1/webhooks/{endpoint.pk}/", {"url": "javascript:alert(1)"}, format="json"
    )
    assert response.status_code == 400 and "url" in response.json()
    endpoint.refresh_from_db()
    assert endpoint.url == URL


def test_another_workspaces_endpoint_and_deliveries_are_404(api, other_workspace):
    from notifications.events import publish

    receiver, endpoint = receiving_endpoint(other_workspace)
    try:
        publish(workspace=other_workspace, event_type="job.finished", data={"id": 1})
        delivery = WebhookDelivery.objects.get(endpoint=endpoint)
        for method, path in (
            ("get", f"/api/v1/webhooks/{endpoint.pk}/"),
            ("get", f"/api/v1/webhooks/{endpoint.pk}/deliveries/"),
            ("patch", f"/api/v1/webhooks/{endpoint.pk}/"),
            ("delete", f"/api/v1/webhooks/{endpoint.pk}/"),
            ("post", f"/api/v1/webhooks/{endpoint.pk}/deliveries/{delivery.pk}/redeliver/"),
        ):
            response = getattr(api, method)(path, {"is_active": False}, format="json")
            assert response.status_code == 404, (method, path)
        assert api.get("/api/v1/webhooks/").json()["results"] == []
        endpoint.refresh_from_db()
        assert endpoint.is_active
    finally:
        receiver.stop()


def test_a_delivery_of_another_endpoint_is_404_for_redeliver(api, workspace):
    from notifications.events import publish

    first, _ = endpoint_for(workspace, URL, ["job.finished"])
    second, _ = endpoint_for(workspace, URL + "2", ["plan.activated"])
    publish(workspace=workspace, event_type="job.finished", data={"id": 1})
    delivery = WebhookDelivery.objects.get(endpoint=first)
    response = api.post(f"/api/v1/webhooks/{second.pk}/deliveries/{delivery.pk}/redeliver/")
    assert response.status_code == 404


@pytest.mark.parametrize("role", ["viewer", "rep", "manager", "director"])
def test_only_admins_see_or_change_webhooks(user_client, workspace, role):
    endpoint, _ = endpoint_for(workspace, URL)
    client = user_client(workspace, role=role)
    assert client.get("/api/v1/webhooks/").status_code == 403
    assert client.get(f"/api/v1/webhooks/{endpoint.pk}/deliveries/").status_code == 403
    assert client.post("/api/v1/webhooks/", {"url": URL}, format="json").status_code == 403
    assert client.delete(f"/api/v1/webhooks/{endpoint.pk}/").status_code == 403
    assert WebhookEndpoint.objects.count() == 1


def test_a_read_key_reads_but_cannot_change(make_client, workspace):
    endpoint, _ = endpoint_for(workspace, URL)
    reader = make_client(workspace, scopes="read")
    assert reader.get("/api/v1/webhooks/").status_code == 200
    assert reader.post("/api/v1/webhooks/", {"url": URL}, format="json").status_code == 403
    assert (
        reader.patch(f"/api/v1/webhooks/{endpoint.pk}/", {"is_active": False}, format="json")
    ).status_code == 403


def test_delivery_log_shape_and_redelivery(api, workspace, django_capture_on_commit_callbacks):
    from notifications.events import publish

    receiver, endpoint = receiving_endpoint(workspace, ["job.finished"])
    try:
        receiver.status, receiver.body = 500, b"INTERNAL-RECEIVER-DETAIL"
        with django_capture_on_commit_callbacks(execute=True):  # delivered at the commit
            publish(workspace=workspace, event_type="job.finished", data={"id": 7})
        log = api.get(f"/api/v1/webhooks/{endpoint.pk}/deliveries/")
        assert log.status_code == 200
        (row,) = log.json()["results"]
        assert set(row) == {
            "id",
            "event",
            "status",
            "attempts",
            "response_code",
            "created_at",
            "next_attempt_at",
        }
        assert (row["event"], row["status"], row["attempts"], row["response_code"]) == (
            "job.finished",
            "pending",
            1,
            500,
        )
        assert row["next_attempt_at"] is not None
        assert b"INTERNAL-RECEIVER-DETAIL" not in log.content  # never echoed

        receiver.status, receiver.body = 204, b""
        with django_capture_on_commit_callbacks(execute=True):
            again = api.post(f"/api/v1/webhooks/{endpoint.pk}/deliveries/{row['id']}/redeliver/")
        assert again.status_code == 200, again.content
        assert again.json()["status"] in ("pending", "succeeded")
        delivery = WebhookDelivery.objects.get(pk=row["id"])
        assert delivery.status == "succeeded" and delivery.attempts == 2
        assert receiver.ids() == [f"msg_{row['id']}"]
    finally:
        receiver.stop()


def test_deleting_an_endpoint_takes_its_log_and_audits_it(api, workspace):
    from notifications.events import publish

    endpoint, _ = endpoint_for(workspace, URL)
    publish(workspace=workspace, event_type="job.finished", data={"id": 1})
    assert api.delete(f"/api/v1/webhooks/{endpoint.pk}/").status_code == 204
    assert not WebhookEndpoint.objects.exists() and not WebhookDelivery.objects.exists()
    assert AuditEntry.objects.filter(action="delete", object_id=str(endpoint.pk)).exists()


def test_the_receiver_helper_refuses_a_wrong_signature(workspace):
    """The test receiver really verifies: a delivery signed with another secret is refused."""
    from notifications.events import publish
    from notifications.services import webhook_drain_all

    receiver = Receiver(secret="whsec_" + base64.b64encode(b"x" * 32).decode()).start()
    try:
        endpoint_for(workspace, receiver.url)
        publish(workspace=workspace, event_type="job.finished", data={"id": 1})
        webhook_drain_all()
        assert receiver.ids() == [] and receiver.refused == ["No matching signature found"]
        assert WebhookDelivery.objects.get().response_code == 401
    finally:
        receiver.stop()


def test_api_key_scoped_to_one_workspace_lists_only_its_endpoints(workspace, other_workspace):
    from rest_framework.test import APIClient

    endpoint_for(workspace, URL)
    endpoint_for(other_workspace, URL)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_for(workspace)}")
    assert len(client.get("/api/v1/webhooks/").json()["results"]) == 1
