"""Retrying failed write-backs — one from the allocation page, all from the history filtered
to failed write-backs, or per CRM through the API — never writes an owner that a newer
entry of the record replaced: those rows become `superseded`. Through the fake Salesforce."""

import pytest

from crm_sync.crypto import credentials_encrypt
from crm_sync.models import WritebackOutbox, WritebackStatus
from crm_sync.services import writeback_drain_workspace
from tests.crm_sync.factories import CrmConnectionFactory
from tests.factories import MemberFactory, TerritoryFactory, TerritorySlotFactory

ALLOCATIONS = "/api/v1/allocations/"


@pytest.fixture
def salesforce(workspace, fake_sf):
    return CrmConnectionFactory(
        workspace=workspace,
        provider="salesforce",
        settings={"instance_url": fake_sf.instance_url},
        credentials_encrypted=credentials_encrypt(credentials={"access_token": "static-token"}),
    )


def _their_manager(user_client, workspace, *reps):
    """A manager user whose member leads the reps: their records are in the manager's scope."""
    lead = MemberFactory(workspace=workspace, name="Team Lead")
    for rep in reps:
        rep.manager = lead
        rep.save(update_fields=["manager"])
    return user_client(workspace, role="manager", member=lead)


@pytest.fixture
def reps(workspace):
    territory = TerritoryFactory(workspace=workspace)
    reps = [
        MemberFactory(workspace=workspace, crm_provider="salesforce", crm_user_id=f"005{name}")
        for name in ("ADA", "BEN")
    ]
    for rep in reps:
        TerritorySlotFactory(territory=territory, member=rep)
    return reps


def allocate(api, record_id):
    record = {"type": "lead", "id": record_id, "crm": "salesforce", "fields": {}}
    response = api.post(ALLOCATIONS, {"record": record}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def reassign(api, allocation, member):
    response = api.post(
        f"{ALLOCATIONS}{allocation['id']}/reassign/",
        {"member": member.pk, "reason": "territory swap"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    return response.json()


def sent_owners(fake, record_id):
    return [r["OwnerId"] for call in fake.calls for r in call if r["id"] == record_id]


def test_retrying_the_older_failed_write_back_writes_only_the_current_owner(
    api, user_client, workspace, salesforce, reps, fake_sf
):
    ada, ben = reps
    first = allocate(api, "00Q000000000001")
    assert first["owner"]["id"] == ada.pk
    fake_sf.invalid_owner_ids = {ada.crm_user_id}  # Ada's CRM user is inactive
    writeback_drain_workspace(workspace_id=workspace.id)
    old = WritebackOutbox.objects.get(allocation_id=first["id"])
    assert old.status == WritebackStatus.FAILED
    fake_sf.invalid_owner_ids = set()  # …and reactivated later

    current = reassign(api, first, ben)
    old.refresh_from_db()
    assert old.status == WritebackStatus.SUPERSEDED  # at enqueue time

    manager = _their_manager(user_client, workspace, *reps)
    page = manager.post(f"/allocations/{first['id']}/writeback/retry/", follow=True)
    assert "A newer entry replaced this one" in page.content.decode()
    writeback_drain_workspace(workspace_id=workspace.id)

    old.refresh_from_db()
    assert old.status == WritebackStatus.SUPERSEDED
    assert fake_sf.owners == {"00Q000000000001": ben.crm_user_id}
    assert sent_owners(fake_sf, "00Q000000000001") == [ada.crm_user_id, ben.crm_user_id]
    shown = api.get(f"{ALLOCATIONS}{current['id']}/").json()
    assert shown["writeback"]["status"] == "succeeded"


def test_retry_supersedes_a_failed_row_whose_entry_is_no_longer_current(
    api, user_client, workspace, salesforce, reps, fake_sf
):
    """Reassigned to someone with no CRM user: no newer row exists, but the old owner is
    still not the record's owner any more, so a retry must not write it."""
    ada, _ = reps
    first = allocate(api, "00Q000000000002")
    fake_sf.invalid_owner_ids = {ada.crm_user_id}
    writeback_drain_workspace(workspace_id=workspace.id)
    fake_sf.invalid_owner_ids = set()
    reassign(api, first, MemberFactory(workspace=workspace, crm_user_id=""))

    manager = _their_manager(user_client, workspace, *reps)
    manager.post(f"/allocations/{first['id']}/writeback/retry/")
    writeback_drain_workspace(workspace_id=workspace.id)

    row = WritebackOutbox.objects.get(allocation_id=first["id"])
    assert row.status == WritebackStatus.SUPERSEDED
    assert sent_owners(fake_sf, "00Q000000000002") == [ada.crm_user_id]  # the refused try only


def test_retry_all_failed_from_the_history_and_the_api(
    api, user_client, workspace, other_api, salesforce, reps, fake_sf
):
    ada, ben = reps
    stale = allocate(api, "00Q000000000003")  # Ada
    lone = allocate(api, "00Q000000000004")  # Ben
    fake_sf.invalid_owner_ids = {ada.crm_user_id, ben.crm_user_id}
    writeback_drain_workspace(workspace_id=workspace.id)
    fake_sf.invalid_owner_ids = set()
    # A failed row a newer entry replaced without superseding it (left by an older release).
    newer = reassign(api, stale, ben)
    WritebackOutbox.objects.filter(allocation_id=stale["id"]).update(status="failed")
    WritebackOutbox.objects.filter(allocation_id=newer["id"]).update(status="succeeded")

    viewer = user_client(workspace, role="viewer").get("/allocations/", {"writeback": "failed"})
    assert 'data-testid="retry-all-failed"' not in viewer.content.decode()
    manager = _their_manager(user_client, workspace, *reps)
    listed = manager.get("/allocations/", {"writeback": "failed"}).content.decode()
    assert 'data-testid="retry-all-failed"' in listed and "Retry all failed" in listed
    assert 'data-testid="retry-all-failed"' not in manager.get("/allocations/").content.decode()

    done = manager.post("/allocations/writeback/retry-failed/", follow=True).content.decode()
    assert "1 failed write-back queued again; 1 replaced by a newer entry." in done
    statuses = dict(WritebackOutbox.objects.values_list("allocation_id", "status"))
    assert statuses[stale["id"]] == "superseded" and statuses[lone["id"]] == "pending"
    writeback_drain_workspace(workspace_id=workspace.id)
    assert fake_sf.owners == {"00Q000000000004": ben.crm_user_id}

    # The API: per CRM connection; another workspace's connection is a 404.
    fake_sf.invalid_owner_ids = {ben.crm_user_id}
    allocate(api, "00Q000000000005")  # Ada (round robin), refused below
    fake_sf.invalid_owner_ids = {ada.crm_user_id}
    writeback_drain_workspace(workspace_id=workspace.id)
    fake_sf.invalid_owner_ids = set()
    url = f"/api/v1/crm-connections/{salesforce.pk}/retry-failed/"
    assert other_api.post(url).status_code == 404
    assert api.post(url).json() == {"retried": 1, "superseded": 0}
    writeback_drain_workspace(workspace_id=workspace.id)
    assert fake_sf.owners["00Q000000000005"] == ada.crm_user_id
    assert not WritebackOutbox.objects.filter(status="failed").exists()
