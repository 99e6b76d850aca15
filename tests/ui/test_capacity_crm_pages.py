"""Capacities and CRM pages: live usage, manager/admin guards, inline errors, sync progress."""

import pytest

from capacities.models import Capacity
from crm_sync.models import CrmConnection, SyncRun
from tests.allocation.factories import AllocationFactory
from tests.capacities.factories import CapacityFactory
from tests.crm_sync.test_sync_salesforce import user
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


def test_capacities_page_shows_live_usage_and_viewers_cannot_edit(browser_client, workspace):
    rep = MemberFactory(workspace=workspace, name="Ada Park")
    CapacityFactory(member=rep, limit=4)
    AllocationFactory.create_batch(3, workspace=workspace, owner=rep)
    viewer = browser_client(workspace, role="viewer")
    body = viewer.get("/capacities/").content.decode()
    assert "Ada Park" in body and "3 used · 1 left" in body and "width:75%" in body
    assert 'data-testid="capacity-form"' not in body
    assert viewer.post("/capacities/new/", {"member": rep.pk, "limit": 5}).status_code == 403


def test_manager_adds_a_capacity_and_sees_field_errors_inline(browser_client, workspace):
    lead = MemberFactory(workspace=workspace)
    rep = MemberFactory(workspace=workspace, manager=lead)
    manager = browser_client(workspace, role="manager", member=lead)
    bad = manager.post("/capacities/new/", {"member": rep.pk, "limit": "", "period": "day"})
    assert bad.status_code == 400
    assert "This field may not be null." in bad.content.decode()
    rolling = manager.post("/capacities/new/", {"member": rep.pk, "limit": 3, "period": "rolling"})
    assert "required for a rolling window" in rolling.content.decode()
    assert not Capacity.objects.exists()
    good = manager.post(
        "/capacities/new/",
        {"member": rep.pk, "limit": 8, "period": "week", "record_types": ["lead"]},
    )
    assert good.status_code == 302
    capacity = Capacity.objects.get()
    assert (capacity.limit, capacity.period, capacity.record_types) == (8, "week", ["lead"])
    assert manager.post(f"/capacities/{capacity.pk}/delete/").status_code == 302
    assert not Capacity.objects.exists()


def test_another_workspaces_capacity_is_404(browser_client, workspace, other_workspace):
    foreign = CapacityFactory(member=MemberFactory(workspace=other_workspace))
    manager = browser_client(workspace, role="manager")
    assert manager.get(f"/capacities/{foreign.pk}/").status_code == 404


def test_members_table_and_dashboard_show_capacity_bars(browser_client, workspace):
    rep = MemberFactory(workspace=workspace, name="Ben Cole")
    CapacityFactory(member=rep, limit=2)
    AllocationFactory.create_batch(2, workspace=workspace, owner=rep)
    client = browser_client(workspace, role="viewer")
    assert "2/2 day" in client.get("/members/").content.decode()
    dashboard = client.get("/").content.decode()
    assert 'data-testid="utilisation"' in dashboard and "2 / 2 per day" in dashboard
    assert "?writeback=failed" in dashboard


@pytest.mark.parametrize("role", ["viewer", "manager"])
def test_crm_pages_are_for_admins_only(browser_client, workspace, role):
    client = browser_client(workspace, role=role)
    assert client.get("/crm/").status_code == 403
    assert "/crm/" not in client.get("/").content.decode()


def test_admin_connects_with_inline_errors_and_never_sees_the_secret_again(
    browser_client, workspace, fake_sf
):
    admin = browser_client(workspace)
    missing = admin.post("/crm/", {"provider": "salesforce", "instance_url": "not a url"})
    assert missing.status_code == 400
    body = missing.content.decode()
    assert "must be an http(s) URL" in body and 'data-testid="credentials-error"' in body
    created = admin.post(
        "/crm/",
        {
            "provider": "salesforce",
            "name": "Prod org",
            "instance_url": fake_sf.instance_url,
            "login_url": fake_sf.instance_url,
            "client_id": "cid",
            "client_secret": "very-secret-value",
            "sync_interval_minutes": "30",
        },
    )
    assert created.status_code == 302
    page = admin.get("/crm/").content.decode()
    assert "Prod org" in page and "very-secret-value" not in page
    connection = CrmConnection.objects.get()
    tested = admin.post(f"/crm/{connection.pk}/test/", follow=True).content.decode()
    assert "connected; 14990 API requests left today" in tested


def test_sync_now_shows_progress_then_counts(
    browser_client, workspace, fake_sf, django_capture_on_commit_callbacks
):
    fake_sf.users = [user(f"005{i}", f"Rep {i}", i) for i in range(1, 4)]
    admin = browser_client(workspace)
    admin.post(
        "/crm/",
        {
            "provider": "salesforce",
            "instance_url": fake_sf.instance_url,
            "login_url": fake_sf.instance_url,
            "client_id": "cid",
            "client_secret": "s",
        },
    )
    connection = CrmConnection.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        started = admin.post(f"/crm/{connection.pk}/sync/")
    run = SyncRun.objects.get()
    assert started["Location"] == f"/crm/runs/{run.pk}/"
    panel = admin.get(started["Location"], HTTP_HX_REQUEST="true").content.decode()
    assert 'data-status="succeeded"' in panel and "3 of 3 users processed" in panel
    assert "hx-trigger" not in panel  # finished: the panel stops polling
    queued = SyncRun.objects.create(workspace=workspace, connection=connection)
    polling = admin.get(f"/crm/runs/{queued.pk}/").content.decode()
    assert 'hx-trigger="every 1s"' in polling
    log = admin.get("/crm/").content.decode()
    assert f"#{run.pk}" in log and "3 new" in log


def test_member_picker_searches_instead_of_listing_every_member(browser_client, workspace):
    lead = MemberFactory(workspace=workspace, name="Zoe Lead")
    MemberFactory.create_batch(60, workspace=workspace, manager=lead)
    MemberFactory(workspace=workspace, name="Rita Rep", manager=lead)
    manager = browser_client(workspace, role="manager", member=lead)
    page = manager.get("/capacities/").content.decode()
    picker = page.split('id="member-select"')[1].split("</select>")[0]
    assert picker.count("<option value=") == 51  # "—" and the first 50 by name
    found = manager.get("/capacities/member-options/", {"member_q": "rita"}).content.decode()
    assert "Rita Rep" in found and found.count("<option value=") == 2  # "—" and Rita
