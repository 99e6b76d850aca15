"""A slow CRM never holds up allocations: the drain claims rows (SKIP LOCKED + a lease),
commits, calls the CRM outside any transaction and records the outcomes in a new short
transaction. Real parallel HTTP against the live server and real parallel drains, each on
its own database connection, against a fake Salesforce that takes seconds to answer."""

import json
import threading
import time
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from crm_sync.crypto import credentials_encrypt
from crm_sync.models import WritebackOutbox, WritebackStatus
from crm_sync.services import writeback_drain_workspace
from tests.crm_sync.factories import AllocationFactory, CrmConnectionFactory
from tests.factories import (
    MemberFactory,
    TerritoryFactory,
    TerritorySlotFactory,
    WorkspaceFactory,
    api_key_for,
)

pytestmark = pytest.mark.django_db(transaction=True)
CRM_DELAY = 3.0  # seconds the fake CRM takes for every owner update


def _salesforce(workspace, fake):
    return CrmConnectionFactory(
        workspace=workspace,
        provider="salesforce",
        settings={"instance_url": fake.instance_url},
        credentials_encrypted=credentials_encrypt(credentials={"access_token": "static-token"}),
    )


def _territory_with_reps(workspace, n=2):
    territory = TerritoryFactory(workspace=workspace)
    reps = [
        MemberFactory(workspace=workspace, crm_provider="salesforce", crm_user_id=f"005REP{i}")
        for i in range(n)
    ]
    for rep in reps:
        TerritorySlotFactory(territory=territory, member=rep)
    return reps


def _allocate(url, key, record_id) -> tuple[dict, float]:
    body = {"record": {"type": "lead", "id": record_id, "crm": "salesforce", "fields": {}}}
    request = urllib.request.Request(
        f"{url}/api/v1/allocations/",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        method="POST",
    )
    started = time.monotonic()
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 201
        return json.loads(response.read()), time.monotonic() - started


def _wait_for(condition, seconds=30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def _in_thread(function, **kwargs):
    """Runs `function` on its own database connection, as a worker process would."""
    outcome = {}

    def run():
        try:
            outcome["result"] = function(**kwargs)
        except Exception as exc:  # reported by the test, not lost in the thread
            outcome["error"] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def test_allocations_of_a_territory_do_not_wait_for_a_drain_in_progress(live_server, fake_sf):
    """A drain (as a worker runs it) is inside a slow CRM call: allocations of the same
    territory — including a reallocation of the very record being written — answer at once."""
    fake_sf.latency = CRM_DELAY
    workspace = WorkspaceFactory()
    _salesforce(workspace, fake_sf)
    _territory_with_reps(workspace)
    key = api_key_for(workspace)
    first, _ = _allocate(live_server.url, key, "00Q000000000001")
    assert _wait_for(fake_sf.in_flight.is_set), "no drain reached the CRM"

    drain, outcome = _in_thread(writeback_drain_workspace, workspace_id=workspace.id)
    again, again_seconds = _allocate(live_server.url, key, "00Q000000000001")
    records = [f"00Q00000000010{i}" for i in range(5)]
    with ThreadPoolExecutor(5) as pool:
        answers = list(pool.map(lambda r: _allocate(live_server.url, key, r), records))

    assert fake_sf.in_flight.is_set()  # the CRM call was still in progress throughout
    assert again_seconds < CRM_DELAY / 2
    assert max(seconds for _, seconds in answers) < CRM_DELAY / 2, answers
    drain.join(timeout=60)
    assert "error" not in outcome, outcome
    latest = again["owner"]["crm_user_id"]
    assert latest != first["owner"]["crm_user_id"]  # round robin moved the record
    assert _wait_for(
        lambda: not WritebackOutbox.objects.filter(status=WritebackStatus.PENDING).exists()
    ), list(WritebackOutbox.objects.values_list("record_id", "status"))
    assert fake_sf.owners["00Q000000000001"] == latest  # the current owner, written last
    sent = Counter(r["id"] for call in fake_sf.calls for r in call)
    assert all(sent[r] == 1 for r in records), sent


def test_in_demo_mode_the_allocation_request_never_runs_the_write_back(live_server, fake_sf):
    """No broker: tasks are eager, yet the drain runs in the background after commit."""
    fake_sf.latency = CRM_DELAY
    workspace = WorkspaceFactory()
    _salesforce(workspace, fake_sf)
    (rep,) = _territory_with_reps(workspace, n=1)

    answer, seconds = _allocate(live_server.url, api_key_for(workspace), "00Q000000000009")

    assert seconds < CRM_DELAY / 2
    assert answer["writeback"]["status"] == "pending"
    assert _wait_for(
        lambda: WritebackOutbox.objects.filter(status=WritebackStatus.SUCCEEDED).exists(),
        seconds=CRM_DELAY * 5,
    )
    assert fake_sf.owners == {"00Q000000000009": rep.crm_user_id}


def test_two_drains_in_parallel_never_send_the_same_row_twice(fake_sf):
    fake_sf.latency = 0.5
    workspace = WorkspaceFactory()
    _salesforce(workspace, fake_sf)
    # Rows left pending (say the broker was down): nothing else drains them meanwhile.
    allocations = [
        AllocationFactory(workspace=workspace, record_crm="salesforce", record_id=f"00Q{i:012d}")
        for i in range(450)
    ]
    WritebackOutbox.objects.bulk_create(
        WritebackOutbox(
            workspace=workspace,
            allocation=allocation,
            provider="salesforce",
            record_type="lead",
            record_id=allocation.record_id,
            owner_crm_user_id="005A",
        )
        for allocation in allocations
    )

    drains = [
        _in_thread(writeback_drain_workspace, workspace_id=workspace.id, batch_size=100)
        for _ in range(2)
    ]
    for thread, _ in drains:
        thread.join(timeout=120)

    assert all("error" not in outcome for _, outcome in drains), drains
    assert all(outcome["result"]["succeeded"] > 0 for _, outcome in drains), drains  # both worked
    assert sum(outcome["result"]["succeeded"] for _, outcome in drains) == 450
    sent = Counter(record["id"] for call in fake_sf.calls for record in call)
    assert len(sent) == 450 and set(sent.values()) == {1}
    assert WritebackOutbox.objects.filter(status=WritebackStatus.SUCCEEDED).count() == 450


def test_rows_of_a_crashed_drain_are_claimed_again_once_the_lease_expires(fake_sf):
    workspace = WorkspaceFactory()
    _salesforce(workspace, fake_sf)
    allocation = AllocationFactory(workspace=workspace, record_crm="salesforce")
    # A drain claimed the row, then its worker died before recording anything.
    row = WritebackOutbox.objects.create(
        workspace=workspace,
        allocation=allocation,
        provider="salesforce",
        record_type="lead",
        record_id=allocation.record_id,
        owner_crm_user_id="005A",
        claimed_until=timezone.now() + timedelta(minutes=5),
    )
    assert writeback_drain_workspace(workspace_id=workspace.id)["succeeded"] == 0
    assert fake_sf.calls == []  # leased: nobody else sends it

    WritebackOutbox.objects.filter(pk=row.pk).update(
        claimed_until=timezone.now() - timedelta(seconds=1)
    )
    assert writeback_drain_workspace(workspace_id=workspace.id)["succeeded"] == 1
    row.refresh_from_db()
    assert (row.status, row.claimed_until) == (WritebackStatus.SUCCEEDED, None)
    assert fake_sf.owners == {allocation.record_id: "005A"}
