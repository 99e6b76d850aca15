"""Write-back against a local HubSpot-speaking server, through the real hubspot-api-client."""

import json
import logging
import time

import pytest
from django.db import transaction
from werkzeug import Response

from crm_sync.crypto import credentials_decrypt, credentials_encrypt
from crm_sync.models import WritebackOutbox, WritebackStatus
from crm_sync.providers import TransientCrmError
from crm_sync.services import writeback_drain_workspace, writeback_enqueue, writeback_sweep
from crm_sync.tasks import writeback_drain
from tests.crm_sync.factories import AllocationFactory, CrmConnectionFactory

BATCH_OK = {
    "status": "COMPLETE",
    "results": [],
    "startedAt": "2026-01-01T00:00:00Z",
    "completedAt": "2026-01-01T00:00:01Z",
}
UPDATE_PATH = "/crm/v3/objects/contacts/batch/update"


@pytest.fixture
def connection(workspace, httpserver):
    return CrmConnectionFactory(
        workspace=workspace, settings={"base_url": httpserver.url_for("").rstrip("/")}
    )


def enqueue(workspace, n, owner="77"):
    rows = []
    for _ in range(n):
        allocation = AllocationFactory(workspace=workspace)
        rows.append(
            writeback_enqueue(
                allocation=allocation,
                provider="hubspot",
                record_type="contact",
                record_id=allocation.record_id,
                owner_crm_user_id=owner,
            )
        )
    return rows


def test_credentials_round_trip_and_are_not_plaintext_at_rest():
    token = credentials_encrypt(credentials={"access_token": "pat-xyz"})
    assert "pat-xyz" not in token
    assert credentials_decrypt(token=token) == {"access_token": "pat-xyz"}


def test_drain_batches_100_a_call_and_marks_rows_succeeded(workspace, connection, httpserver):
    bodies = []

    def handler(request):
        bodies.append(request.get_json())
        return Response(json.dumps(BATCH_OK), content_type="application/json")

    httpserver.expect_request(UPDATE_PATH, method="POST").respond_with_handler(handler)
    enqueue(workspace, 250)

    totals = writeback_drain_workspace(workspace_id=workspace.id)

    assert totals == {"succeeded": 250, "failed": 0, "calls": 3}
    assert [len(b["inputs"]) for b in bodies] == [100, 100, 50]
    assert bodies[0]["inputs"][0]["properties"] == {"hubspot_owner_id": "77"}
    assert set(WritebackOutbox.objects.values_list("status", flat=True)) == {"succeeded"}


def test_permanent_400_marks_rows_failed_in_our_words_and_logs_the_crm_message(
    workspace, connection, httpserver, caplog
):
    httpserver.expect_request(UPDATE_PATH, method="POST").respond_with_json(
        {"status": "error", "message": "Property values were not valid: owner 77 unknown"},
        status=400,
    )
    (row,) = enqueue(workspace, 1)

    writeback_drain_workspace(workspace_id=workspace.id)

    row.refresh_from_db()
    assert row.status == WritebackStatus.FAILED
    assert row.last_error == "HubSpot refused the request (HTTP 400)"
    assert "owner 77 unknown" in caplog.text  # the CRM's own words: server log only
    assert row.attempts == 1


def test_429_is_transient_and_carries_retry_after(workspace, connection, httpserver):
    httpserver.expect_request(UPDATE_PATH, method="POST").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "7"}
    )
    (row,) = enqueue(workspace, 1)

    with pytest.raises(TransientCrmError) as info:
        writeback_drain_workspace(workspace_id=workspace.id)

    assert info.value.retry_after == 7.0
    row.refresh_from_db()
    assert row.status == WritebackStatus.PENDING


def test_task_retries_after_503_and_then_delivers(workspace, connection, httpserver):
    httpserver.expect_ordered_request(UPDATE_PATH, method="POST").respond_with_data(
        "down", status=503
    )
    httpserver.expect_ordered_request(UPDATE_PATH, method="POST").respond_with_json(BATCH_OK)
    (row,) = enqueue(workspace, 1)

    # throw=False lets eager apply() run the retry signature in-process, as a worker would.
    writeback_drain.apply(kwargs={"workspace_id": workspace.id}, throw=False)

    row.refresh_from_db()
    assert row.status == WritebackStatus.SUCCEEDED
    assert len(httpserver.log) == 2


def test_reassigned_record_writes_only_the_latest_owner(workspace, connection, httpserver):
    bodies = []

    def handler(request):
        bodies.append(request.get_json())
        return Response(json.dumps(BATCH_OK), content_type="application/json")

    httpserver.expect_request(UPDATE_PATH, method="POST").respond_with_handler(handler)
    first = AllocationFactory(workspace=workspace, record_id="555")
    second = AllocationFactory(workspace=workspace, record_id="555")
    for allocation, owner in ((first, "1"), (second, "2")):
        writeback_enqueue(
            allocation=allocation,
            provider="hubspot",
            record_type="contact",
            record_id="555",
            owner_crm_user_id=owner,
        )

    writeback_drain_workspace(workspace_id=workspace.id)

    assert bodies == [{"inputs": [{"id": "555", "properties": {"hubspot_owner_id": "2"}}]}]
    assert first.writeback.__class__.objects.get(allocation=first).status == "superseded"


def test_sweeper_finds_workspaces_with_pending_rows(workspace, other_workspace, connection):
    enqueue(workspace, 2)
    assert writeback_sweep() == [workspace.id]


def test_credentials_never_logged(workspace, connection, httpserver, caplog):
    httpserver.expect_request(UPDATE_PATH, method="POST").respond_with_json(BATCH_OK)
    enqueue(workspace, 1)
    caplog.set_level(logging.DEBUG)

    writeback_drain_workspace(workspace_id=workspace.id)

    assert "pat-secret-token" not in caplog.text
    assert httpserver.log[0][0].headers["Authorization"] == "Bearer pat-secret-token"


@pytest.mark.django_db(transaction=True)
def test_in_demo_mode_the_drain_runs_in_the_background_once_the_allocation_commits(
    workspace, connection, httpserver
):
    httpserver.expect_request(UPDATE_PATH, method="POST").respond_with_json(BATCH_OK)

    with transaction.atomic():
        (row,) = enqueue(workspace, 1)
        time.sleep(0.3)
        assert httpserver.log == []  # nothing is sent before commit

    deadline = time.monotonic() + 20
    while row.status != WritebackStatus.SUCCEEDED and time.monotonic() < deadline:
        time.sleep(0.05)
        row.refresh_from_db()
    assert row.status == WritebackStatus.SUCCEEDED
    assert len(httpserver.log) == 1
