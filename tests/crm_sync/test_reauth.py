"""A CRM that refuses our credentials (401) does not fail the write-backs: they wait,
pending, while the connection shows `needs_reauth` (API and UI) and the sweeper skips it;
new credentials or a successful test end the wait. Through the fake Salesforce."""

import threading
import time

import pytest
from django.db import connections

from crm_sync.models import CrmConnection, SyncRun, WritebackOutbox, WritebackStatus
from crm_sync.services import writeback_enqueue, writeback_sweep
from crm_sync.tasks import writeback_drain
from tests.crm_sync.factories import AllocationFactory

CONNECTIONS = "/api/v1/crm-connections/"


@pytest.fixture
def connection(api, fake_sf):
    body = {
        "provider": "salesforce",
        "name": "Prod org",
        "settings": {"instance_url": fake_sf.instance_url, "login_url": fake_sf.instance_url},
        "credentials": {"access_token": "static-token"},  # a session: it cannot refresh
    }
    response = api.post(CONNECTIONS, body, format="json")
    assert response.status_code == 201, response.json()
    return CrmConnection.objects.get(pk=response.json()["id"])


def pending_rows(workspace, n):
    rows = []
    for _ in range(n):
        allocation = AllocationFactory(workspace=workspace, record_crm="salesforce")
        rows.append(
            writeback_enqueue(
                allocation=allocation,
                provider="salesforce",
                record_type="lead",
                record_id=allocation.record_id,
                owner_crm_user_id="005A",
            )
        )
    return rows


def revoked(workspace, fake_sf):
    """Rows waiting, the CRM session revoked, and the drain that discovers it."""
    rows = pending_rows(workspace, 3)
    fake_sf.expire_sessions()
    writeback_drain.delay(workspace_id=workspace.id)
    return rows


def test_a_401_keeps_write_backs_pending_and_flags_the_connection(
    api, user_client, workspace, connection, fake_sf
):
    revoked(workspace, fake_sf)

    rows = WritebackOutbox.objects.order_by("id")
    assert {r.status for r in rows} == {WritebackStatus.PENDING}
    assert {r.last_error for r in rows} == {"Salesforce refused the session (HTTP 401); reconnect"}
    assert api.get(f"{CONNECTIONS}{connection.pk}/").json()["status"] == "needs_reauth"
    page = user_client(workspace).get("/crm/").content.decode()
    assert 'data-testid="needs-reauth"' in page and 'data-testid="reconnect-form"' in page

    assert writeback_sweep() == []  # the sweeper leaves the connection alone…
    writeback_drain.delay(workspace_id=workspace.id)
    assert fake_sf.calls == []  # …and so does a drain: nothing is sent meanwhile
    assert {r.status for r in rows} == {WritebackStatus.PENDING}


def test_new_credentials_end_the_wait_and_deliver(
    api, workspace, connection, fake_sf, django_capture_on_commit_callbacks
):
    revoked(workspace, fake_sf)

    credentials = {"client_id": "cid", "client_secret": "rotated"}
    with django_capture_on_commit_callbacks() as callbacks:
        saved = api.patch(
            f"{CONNECTIONS}{connection.pk}/", {"credentials": credentials}, format="json"
        )
    assert saved.status_code == 200 and saved.json()["status"] != "needs_reauth"
    assert len(callbacks) == 1  # a drain is started once the credentials are saved
    assert writeback_sweep() == [workspace.id]

    writeback_drain.delay(workspace_id=workspace.id)  # what that drain (or the sweeper) runs
    assert set(WritebackOutbox.objects.values_list("status", flat=True)) == {"succeeded"}
    assert len(fake_sf.owners) == 3


def test_a_successful_test_ends_the_wait(api, workspace, connection, fake_sf):
    revoked(workspace, fake_sf)
    assert api.post(f"{CONNECTIONS}{connection.pk}/test/").json()["ok"] is False

    fake_sf.tokens.add("static-token")  # the admin re-enabled the integration user
    assert api.post(f"{CONNECTIONS}{connection.pk}/test/").json()["ok"] is True

    assert api.get(f"{CONNECTIONS}{connection.pk}/").json()["status"] == "never_synced"
    assert writeback_sweep() == [workspace.id]
    writeback_drain.delay(workspace_id=workspace.id)
    assert len(fake_sf.owners) == 3


def test_a_sync_refused_with_401_flags_the_connection_too(
    api, workspace, connection, fake_sf, django_capture_on_commit_callbacks
):
    fake_sf.expire_sessions()
    with django_capture_on_commit_callbacks(execute=True):
        run_id = api.post(f"{CONNECTIONS}{connection.pk}/sync/").json()["id"]
    assert SyncRun.objects.get(pk=run_id).status == "failed"
    assert api.get(f"{CONNECTIONS}{connection.pk}/").json()["status"] == "needs_reauth"


def test_reconnecting_in_the_ui_saves_new_credentials(user_client, workspace, connection, fake_sf):
    revoked(workspace, fake_sf)
    admin = user_client(workspace)
    refused = admin.post(f"/crm/{connection.pk}/reconnect/", {"client_id": "cid"}, follow=True)
    assert "Credentials not saved" in refused.content.decode()
    connection.refresh_from_db()
    assert connection.needs_reauth

    admin.post(f"/crm/{connection.pk}/reconnect/", {"client_id": "cid", "client_secret": "new"})
    connection.refresh_from_db()
    assert not connection.needs_reauth
    assert writeback_sweep() == [workspace.id]


@pytest.mark.django_db(transaction=True)
def test_a_401_for_credentials_replaced_meanwhile_does_not_flag_the_new_ones(
    api, workspace, connection, fake_sf
):
    """A drain that started with the old credentials must not undo a reconnection saved
    while the CRM was refusing them."""
    fake_sf.expire_sessions()
    fake_sf.refusal_latency = 1.5
    WritebackOutbox.objects.bulk_create(  # left pending: nothing else drains them
        WritebackOutbox(
            workspace=workspace,
            allocation=AllocationFactory(workspace=workspace, record_crm="salesforce"),
            provider="salesforce",
            record_type="lead",
            record_id=f"00Q00000000000{i}",
            owner_crm_user_id="005A",
        )
        for i in range(2)
    )
    drain = threading.Thread(target=_drain_on_own_connection, args=(workspace.id,))
    drain.start()
    time.sleep(0.5)  # the drain is waiting for the CRM's 401

    credentials = {"client_id": "cid", "client_secret": "rotated"}
    api.patch(f"{CONNECTIONS}{connection.pk}/", {"credentials": credentials}, format="json")
    drain.join(timeout=30)

    assert api.get(f"{CONNECTIONS}{connection.pk}/").json()["status"] != "needs_reauth"
    # Pending for the next drain (or already delivered by it), never failed.
    assert not WritebackOutbox.objects.filter(status="failed").exists()


def _drain_on_own_connection(workspace_id):
    try:
        writeback_drain.delay(workspace_id=workspace_id)
    finally:
        connections.close_all()
