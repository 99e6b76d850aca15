"""Salesforce write-back through simple-salesforce against a local TLS server."""

import pytest
from celery.exceptions import Retry

from crm_sync.models import WritebackOutbox, WritebackStatus
from crm_sync.services import writeback_drain_workspace, writeback_enqueue
from crm_sync.tasks import writeback_drain
from tests.crm_sync.factories import AllocationFactory, CrmConnectionFactory


def enqueue(workspace, n, owner="005A"):
    for _ in range(n):
        allocation = AllocationFactory(workspace=workspace, record_crm="salesforce")
        writeback_enqueue(
            allocation=allocation,
            provider="salesforce",
            record_type="contact",
            record_id=f"003{allocation.id:012d}",
            owner_crm_user_id=owner,
        )


def test_450_owners_take_3_composite_calls(workspace, fake_sf):
    CrmConnectionFactory(
        workspace=workspace, provider="salesforce", settings={"instance_url": fake_sf.instance_url}
    )
    enqueue(workspace, 450)

    totals = writeback_drain_workspace(workspace_id=workspace.id)

    assert totals == {"succeeded": 450, "failed": 0, "calls": 3}
    assert [len(c) for c in fake_sf.calls] == [200, 200, 50]
    assert set(fake_sf.owners.values()) == {"005A"}


def test_per_record_error_marks_only_that_row_failed(workspace, fake_sf, caplog):
    CrmConnectionFactory(
        workspace=workspace, provider="salesforce", settings={"instance_url": fake_sf.instance_url}
    )
    fake_sf.invalid_owner_ids = {"005DEAD"}
    enqueue(workspace, 2)
    enqueue(workspace, 1, owner="005DEAD")

    writeback_drain_workspace(workspace_id=workspace.id)

    failed = WritebackOutbox.objects.get(owner_crm_user_id="005DEAD")
    assert failed.status == WritebackStatus.FAILED
    # Salesforce's error code is shown; its message only reaches the server log.
    assert failed.last_error == "Salesforce refused the owner update (INVALID_CROSS_REFERENCE_KEY)"
    assert "Owner ID: owner cannot be inactive" in caplog.text
    assert WritebackOutbox.objects.filter(status=WritebackStatus.SUCCEEDED).count() == 2


def test_429_and_503_are_retried_honouring_retry_after(workspace, fake_sf):
    CrmConnectionFactory(
        workspace=workspace, provider="salesforce", settings={"instance_url": fake_sf.instance_url}
    )
    enqueue(workspace, 3)
    fake_sf.failures = [(429, {"Retry-After": "7"})]
    with pytest.raises(Retry) as retry:
        writeback_drain.delay(workspace_id=workspace.id)
    assert retry.value.when >= 7  # the CRM's Retry-After beats the 1 s first backoff

    fake_sf.failures = [(503, {})]
    with pytest.raises(Retry) as retry:
        writeback_drain.delay(workspace_id=workspace.id)
    assert 1 <= retry.value.when < 3  # exponential backoff with jitter
    assert WritebackOutbox.objects.filter(status=WritebackStatus.PENDING).count() == 3

    writeback_drain.delay(workspace_id=workspace.id)  # the retry, once the CRM answers
    assert WritebackOutbox.objects.filter(status=WritebackStatus.SUCCEEDED).count() == 3


def test_a_refused_call_marks_its_rows_failed_in_our_words(workspace, fake_sf):
    CrmConnectionFactory(
        workspace=workspace, provider="salesforce", settings={"instance_url": fake_sf.instance_url}
    )
    enqueue(workspace, 2)
    fake_sf.failures = [(400, {})]
    writeback_drain_workspace(workspace_id=workspace.id)
    errors = set(WritebackOutbox.objects.values_list("last_error", flat=True))
    assert errors == {"Salesforce refused the request (HTTP 400)"}
    assert not WritebackOutbox.objects.exclude(status=WritebackStatus.FAILED).exists()
