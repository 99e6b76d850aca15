"""Salesforce write-back through simple-salesforce against a local TLS server."""

import pytest

from crm_sync.models import WritebackOutbox, WritebackStatus
from crm_sync.services import writeback_drain_workspace, writeback_enqueue
from tests.crm_sync.factories import AllocationFactory, CrmConnectionFactory
from tests.crm_sync.fake_salesforce import FakeSalesforce


@pytest.fixture
def fake_sf(monkeypatch, tmp_path):
    with FakeSalesforce() as fake:
        bundle = tmp_path / "ca.pem"
        fake.ca.cert_pem.write_to_path(str(bundle))
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
        yield fake


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


def test_per_record_error_marks_only_that_row_failed(workspace, fake_sf):
    CrmConnectionFactory(
        workspace=workspace, provider="salesforce", settings={"instance_url": fake_sf.instance_url}
    )
    fake_sf.invalid_owner_ids = {"005DEAD"}
    enqueue(workspace, 2)
    enqueue(workspace, 1, owner="005DEAD")

    writeback_drain_workspace(workspace_id=workspace.id)

    failed = WritebackOutbox.objects.get(owner_crm_user_id="005DEAD")
    assert failed.status == WritebackStatus.FAILED
    assert failed.last_error == "Owner ID: owner cannot be inactive"
    assert WritebackOutbox.objects.filter(status=WritebackStatus.SUCCEEDED).count() == 2
