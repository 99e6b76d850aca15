"""The events main publishes today, each seen by a webhook endpoint subscribed to it (through
a real verifying receiver): allocation.created / reassigned from the API, job.finished when a
job ends, writeback.failed when the CRM refuses an owner, account.orphaned once per sync or
import listing the new accounts no territory covers. Events nobody listens to store nothing."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from allocation.models import Allocation
from crm_sync.services import writeback_drain_workspace, writeback_enqueue
from notifications.models import Event, WebhookDelivery
from tests.book.helpers import us_territory
from tests.crm_sync.factories import AllocationFactory, CrmConnectionFactory
from tests.crm_sync.test_book_sync_salesforce import account, sync_book
from tests.crm_sync.test_sync_salesforce import salesforce

from .factories import receiving_endpoint


@pytest.fixture
def listen(workspace):
    started = []

    def make(*events):
        receiver, _ = receiving_endpoint(workspace, events)
        started.append(receiver)
        return receiver

    yield make
    for receiver in started:
        receiver.stop()


@pytest.fixture(autouse=True)
def jobs_inline(settings):
    settings.JOBS_EAGER_MODE = "inline"


def test_nothing_is_stored_when_nobody_listens(api, workspace, django_capture_on_commit_callbacks):
    us_territory(workspace, reps=2)
    with django_capture_on_commit_callbacks(execute=True):
        api.post(
            "/api/v1/allocations/",
            {"record": {"type": "lead", "fields": {"country": "US"}}},
            format="json",
        )
    assert Allocation.objects.count() == 1 and not Event.objects.exists()


def test_allocation_created_and_reassigned(
    api, workspace, listen, django_capture_on_commit_callbacks
):
    _, (first, second) = us_territory(workspace, reps=2)
    receiver = listen("allocation.created", "allocation.reassigned")
    with django_capture_on_commit_callbacks(execute=True):
        created = api.post(
            "/api/v1/allocations/",
            {"record": {"type": "lead", "id": "L1", "fields": {"country": "US"}}},
            format="json",
        ).json()
    other = second if created["owner"]["id"] == first.pk else first
    with django_capture_on_commit_callbacks(execute=True):
        moved = api.post(
            f"/api/v1/allocations/{created['id']}/reassign/",
            {"member": other.pk, "reason": "territory swap"},
            format="json",
        ).json()
    assert [p["type"] for p in receiver.payloads()] == [
        "allocation.created",
        "allocation.reassigned",
    ]
    created_event, moved_event = receiver.payloads()
    assert created_event["data"]["id"] == created["id"]
    assert created_event["data"]["owner"] == created["owner"]
    assert moved_event["data"]["id"] == moved["id"]
    assert moved_event["data"]["reassigned_from"] == created["id"]
    assert moved_event["data"]["reason"] == "territory swap"


def test_a_dry_run_or_a_replay_publishes_nothing(
    api, workspace, listen, django_capture_on_commit_callbacks
):
    us_territory(workspace, reps=1)
    receiver = listen("allocation.created")
    body = {"record": {"type": "lead", "fields": {"country": "US"}}, "idempotency_key": "k1"}
    with django_capture_on_commit_callbacks(execute=True):
        api.post("/api/v1/allocations/", {**body, "dry_run": True}, format="json")
        api.post("/api/v1/allocations/", body, format="json")
        api.post("/api/v1/allocations/", body, format="json")  # replayed
    assert len(receiver.ids()) == 1


def test_job_finished_when_an_import_job_ends(
    api, workspace, listen, django_capture_on_commit_callbacks
):
    receiver = listen("job.finished")
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            "/api/v1/accounts/import/",
            {"file": SimpleUploadedFile("a.csv", b"crm_id,name\nA1,Acme\n", "text/csv")},
            format="multipart",
        )
    assert response.status_code == 202
    finished = [p["data"] for p in receiver.payloads()]
    imported = next(d for d in finished if d["id"] == response.json()["id"])
    assert (imported["kind"], imported["status"], imported["result"]["imported"]) == (
        "import",
        "succeeded",
        1,
    )


def test_account_orphaned_once_per_import_listing_the_uncovered_accounts(
    api, workspace, listen, django_capture_on_commit_callbacks
):
    us_territory(workspace, reps=1)
    receiver = listen("account.orphaned")
    csv = b"crm_id,name,domain,country\nA1,Acme,acme.com,US\nA2,Bolt,bolt.io,FR\nA3,Cog,,DE\n"
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            "/api/v1/accounts/import/",
            {"file": SimpleUploadedFile("a.csv", csv, "text/csv")},
            format="multipart",
        )
    (event,) = receiver.payloads()
    assert event["data"]["job"] == response.json()["id"]
    assert event["data"]["source"] == "import" and event["data"]["count"] == 2
    assert {a["crm_id"] for a in event["data"]["accounts"]} == {"A2", "A3"}


def test_account_orphaned_once_per_crm_sync(
    api, workspace, listen, fake_sf, django_capture_on_commit_callbacks
):
    us_territory(workspace, reps=1)
    receiver = listen("account.orphaned")
    fake_sf.accounts = [account(1), account(2, country="FR"), account(3, country="DE")]
    connection = salesforce(workspace, fake_sf)
    job = sync_book(api, connection, django_capture_on_commit_callbacks)
    (event,) = receiver.payloads()
    assert (event["data"]["job"], event["data"]["source"], event["data"]["count"]) == (
        job.pk,
        "sync",
        2,
    )
    assert {a["crm_id"] for a in event["data"]["accounts"]} == {"00100002", "00100003"}


def test_writeback_failed_when_the_crm_refuses(workspace, listen, httpserver):
    receiver = listen("writeback.failed")
    CrmConnectionFactory(
        workspace=workspace, settings={"base_url": httpserver.url_for("").rstrip("/")}
    )
    httpserver.expect_request(
        "/crm/v3/objects/contacts/batch/update", method="POST"
    ).respond_with_json({"status": "error", "message": "owner unknown"}, status=400)
    allocation = AllocationFactory(workspace=workspace)
    writeback_enqueue(
        allocation=allocation,
        provider="hubspot",
        record_type="contact",
        record_id=allocation.record_id,
        owner_crm_user_id="77",
    )
    writeback_drain_workspace(workspace_id=workspace.pk)
    from notifications.services import webhook_drain_all

    webhook_drain_all()
    (event,) = receiver.payloads()
    assert event["data"]["allocation"] == allocation.pk
    assert event["data"]["error"] == "HubSpot refused the request (HTTP 400)"
    assert "owner unknown" not in str(event)  # the CRM's words stay in the server log
    assert WebhookDelivery.objects.get().status == "succeeded"
