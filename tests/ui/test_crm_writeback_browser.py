"""Write-backs in headless Chromium: a connection whose credentials the CRM refused shows
`needs reauth` and is reconnected from the CRM page; failed write-backs are retried with
"Retry all failed" on the history filtered to failed write-backs. Demo mode (no broker):
the drains run in the server's background thread, against the fake Salesforce."""

import time

import pytest

from crm_sync.crypto import credentials_encrypt
from crm_sync.models import CrmConnection, WritebackOutbox
from crm_sync.services import writeback_enqueue
from tests.crm_sync.factories import AllocationFactory, CrmConnectionFactory
from tests.factories import MembershipFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "pw-for-tests-1"


def wait_for(condition, seconds=20.0):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def enqueue(workspace, owner):
    allocation = AllocationFactory(workspace=workspace, record_crm="salesforce")
    return writeback_enqueue(
        allocation=allocation,
        provider="salesforce",
        record_type="lead",
        record_id=allocation.record_id,
        owner_crm_user_id=owner,
    )


def test_admin_reconnects_a_refused_crm_then_retries_all_failed_write_backs(
    page, login, shot, workspace, fake_sf
):
    admin = MembershipFactory(workspace=workspace, role="admin").user
    connection = CrmConnectionFactory(
        workspace=workspace,
        provider="salesforce",
        name="Prod org",
        settings={"instance_url": fake_sf.instance_url, "login_url": fake_sf.instance_url},
        credentials_encrypted=credentials_encrypt(credentials={"access_token": "static-token"}),
    )
    fake_sf.expire_sessions()  # the integration user's session was revoked
    waiting = enqueue(workspace, "005ADA")
    wait_for(lambda: CrmConnection.objects.get(pk=connection.pk).needs_reauth)

    login(admin.username, PASSWORD)
    page.click("nav >> text=CRM")
    assert page.inner_text("[data-testid=needs-reauth]") == "needs reauth"
    shot("crm_needs_reauth")
    page.click("summary:has-text('Reconnect')")
    page.fill("[data-testid=reconnect-form] input[name=client_id]", "cid")
    page.fill("[data-testid=reconnect-form] input[name=client_secret]", "rotated")
    page.click("[data-testid=reconnect-form] button")
    page.wait_for_selector("text=Prod org: credentials saved.")
    assert page.locator("[data-testid=needs-reauth]").count() == 0
    wait_for(lambda: WritebackOutbox.objects.get(pk=waiting.pk).status == "succeeded")
    assert fake_sf.owners == {waiting.record_id: "005ADA"}

    fake_sf.invalid_owner_ids = {"005GONE"}  # an inactive CRM user: refused for good
    refused = [enqueue(workspace, "005GONE") for _ in range(2)]
    wait_for(lambda: WritebackOutbox.objects.filter(status="failed").count() == 2)
    fake_sf.invalid_owner_ids = set()  # reactivated in the CRM

    page.click("nav >> text=Allocations")
    page.select_option("select[name=writeback]", "failed")
    page.click("button:has-text('Filter')")
    page.wait_for_selector("[data-testid=retry-all-failed]")
    shot("allocations_failed_writebacks")
    page.click("[data-testid=retry-all-failed] button")
    page.wait_for_selector("text=2 failed write-backs queued again; 0 replaced by a newer entry.")
    wait_for(lambda: not WritebackOutbox.objects.exclude(status="succeeded").exists())
    assert {fake_sf.owners[row.record_id] for row in refused} == {"005GONE"}
