"""Acceptance seen by the CRM sync: a connection's `acceptance_signal` (`status_change` or
`first_activity`) makes a member sync read the open SLA records' status and latest activity
(real simple-salesforce and hubspot-api-client against the local fakes) and accept those
the owner has visibly taken."""

from datetime import timedelta

import pytest
from django.utils import timezone

from allocation.models import Allocation
from crm_sync.services import connection_create, sync_start
from sla.models import SlaClock
from sla.services import clocks_start
from tests.crm_sync.test_sync_hubspot import FakeHubSpot

LEAD_IDS = ("00Q5e000001AAAA", "00Q5e000001BBBB", "00Q5e000001CCCC")


def allocate(api, record_id, crm, **fields):
    record = {"type": "lead", "id": record_id, "crm": crm, "fields": {"country": "US", **fields}}
    response = api.post("/api/v1/allocations/", {"record": record}, format="json")
    assert response.status_code == 201, response.json()
    return Allocation.objects.get(pk=response.json()["id"])


def sync(connection, capture):
    with capture(execute=True):
        run = sync_start(connection=connection)
    run.refresh_from_db()
    assert run.status == "succeeded", run.errors
    return run


def salesforce(workspace, fake, signal):
    return connection_create(
        workspace=workspace,
        provider="salesforce",
        name="Prod org",
        settings={"instance_url": fake.instance_url, "login_url": fake.instance_url,
                  "acceptance_signal": signal},
        credentials={"client_id": "cid", "client_secret": "shh"},
    )  # fmt: skip


def test_a_lead_whose_status_changed_is_accepted(
    api, workspace, team, fake_sf, django_capture_on_commit_callbacks
):
    moved, untouched, unknown_status = (
        allocate(api, LEAD_IDS[0], "salesforce", status="Open"),
        allocate(api, LEAD_IDS[1], "salesforce", status="Open"),
        allocate(api, LEAD_IDS[2], "salesforce"),
    )
    clocks_start(workspace_id=workspace.pk)
    fake_sf.leads = [
        {"Id": LEAD_IDS[0], "Status": "Working - Contacted", "LastActivityDate": None},
        {"Id": LEAD_IDS[1], "Status": "Open", "LastActivityDate": None},
        {"Id": LEAD_IDS[2], "Status": "Open", "LastActivityDate": None},
    ]
    connection = salesforce(workspace, fake_sf, "status_change")
    run = sync(connection, django_capture_on_commit_callbacks)
    assert run.counts["accepted"] == 1
    accepted = SlaClock.objects.get(allocation=moved)
    assert accepted.accepted_via == "crm" and accepted.accepted_by == "CRM sync (Prod org)"
    assert SlaClock.objects.get(allocation=untouched).accepted_at is None
    # No status when allocated: the first one the sync sees is the starting point.
    first_seen = SlaClock.objects.get(allocation=unknown_status)
    assert first_seen.accepted_at is None and first_seen.crm_initial_status == "Open"
    fake_sf.leads[2]["Status"] = "Qualified"
    assert sync(connection, django_capture_on_commit_callbacks).counts["accepted"] == 1
    assert SlaClock.objects.get(allocation=unknown_status).accepted_via == "crm"
    assert any("FROM Lead WHERE Id IN" in q for q in fake_sf.queries)


def test_a_first_activity_since_the_allocation_accepts(
    api, workspace, team, fake_sf, django_capture_on_commit_callbacks
):
    called = allocate(api, LEAD_IDS[0], "salesforce")
    old_activity = allocate(api, LEAD_IDS[1], "salesforce")
    clocks_start(workspace_id=workspace.pk)
    today = timezone.now().date()
    fake_sf.leads = [
        {"Id": LEAD_IDS[0], "Status": "Open", "LastActivityDate": today.isoformat()},
        {"Id": LEAD_IDS[1], "Status": "Open",
         "LastActivityDate": (today - timedelta(days=3)).isoformat()},
    ]  # fmt: skip
    run = sync(salesforce(workspace, fake_sf, "first_activity"), django_capture_on_commit_callbacks)
    assert run.counts["accepted"] == 1
    assert SlaClock.objects.get(allocation=called).accepted_at is not None
    assert SlaClock.objects.get(allocation=old_activity).accepted_at is None


def test_without_a_signal_the_sync_reads_no_record(
    api, workspace, team, fake_sf, django_capture_on_commit_callbacks
):
    entry = allocate(api, LEAD_IDS[0], "salesforce", status="Open")
    clocks_start(workspace_id=workspace.pk)
    fake_sf.leads = [{"Id": LEAD_IDS[0], "Status": "Working", "LastActivityDate": None}]
    run = sync(salesforce(workspace, fake_sf, "none"), django_capture_on_commit_callbacks)
    assert "accepted" not in run.counts
    assert not any("FROM Lead" in q for q in fake_sf.queries)
    assert SlaClock.objects.get(allocation=entry).accepted_at is None


def test_hubspot_contacts_last_sales_activity_accepts(
    api, workspace, team, httpserver, django_capture_on_commit_callbacks
):
    fake = FakeHubSpot(httpserver)
    called = allocate(api, "501", "hubspot")
    silent = allocate(api, "502", "hubspot")
    clocks_start(workspace_id=workspace.pk)
    fake.contacts = {
        "501": {"hs_lead_status": "OPEN",
                "hs_last_sales_activity_timestamp": timezone.now().isoformat()},
        "502": {"hs_lead_status": "OPEN", "hs_last_sales_activity_timestamp": None},
    }  # fmt: skip
    connection = connection_create(
        workspace=workspace,
        provider="hubspot",
        name="Portal",
        settings={"base_url": httpserver.url_for("").rstrip("/"),
                  "acceptance_signal": "first_activity"},
        credentials={"access_token": "pat-na1-secret"},
    )  # fmt: skip
    run = sync(connection, django_capture_on_commit_callbacks)
    assert run.counts["accepted"] == 1
    assert SlaClock.objects.get(allocation=called).accepted_via == "crm"
    assert SlaClock.objects.get(allocation=silent).accepted_at is None
    assert {i["id"] for i in fake.contact_reads[0]["inputs"]} == {"501", "502"}


@pytest.mark.parametrize("value", ["maybe", 3, None])
def test_a_bad_acceptance_signal_is_400(api, workspace, value):
    response = api.post(
        "/api/v1/crm-connections/",
        {"provider": "hubspot", "name": "P", "credentials": {"access_token": "x"},
         "settings": {"base_url": "https://api.hubapi.com", "acceptance_signal": value}},
        format="json",
    )  # fmt: skip
    assert response.status_code == 400
    assert "settings.acceptance_signal" in response.json()
