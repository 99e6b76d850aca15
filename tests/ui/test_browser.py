"""The admin flow in headless Chromium, with a screenshot of each main page."""

import json

import pytest

from allocation.models import Allocation
from territories.models import Territory
from tests.allocation.factories import AllocationFactory
from tests.factories import MemberFactory, MembershipFactory, active_plan

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "pw-for-tests-1"


@pytest.fixture
def admin(workspace):
    return MembershipFactory(workspace=workspace, role="admin").user


def test_admin_builds_a_nested_rule_saves_a_territory_and_finds_the_allocation(
    page, login, shot, workspace, admin, make_client
):
    rep = MemberFactory(workspace=workspace, name="Rita Rep", metadata={"languages": ["en"]})
    MemberFactory(workspace=workspace, name="Sam Seller")
    plan = active_plan(workspace)

    login(admin.username, PASSWORD)
    shot("dashboard")
    page.click("nav >> text=Members")
    page.wait_for_selector("[data-testid=members-table] >> text=Rita Rep")
    shot("members")
    page.click("text=Rita Rep")
    page.wait_for_selector("input[name=languages]")
    shot("member_detail")

    page.goto(f"/territories/new/?plan={plan.pk}")
    page.fill("[data-testid=t-name]", "North America mid-market")
    top = page.locator("#rule-builder > .rb-group")
    first = top.locator(":scope > .rb-children > .rb-row").first
    first.locator(".rb-field").fill("country")
    first.locator(".rb-op").select_option("in")
    first.locator(".rb-value").fill("US\nCA\tMX")  # pasted cells from a spreadsheet
    top.locator(":scope > .rb-head .rb-add-group").click()
    nested = top.locator(":scope > .rb-children > .rb-group")
    nested.locator(":scope > .rb-head .rb-mode").select_option("any")
    row = nested.locator(".rb-row").first
    row.locator(".rb-field").fill("employees")
    row.locator(".rb-op").select_option("gte")
    row.locator(".rb-value").fill("100")
    nested.locator(":scope > .rb-head .rb-add-row").click()  # left without a field: invalid
    page.select_option("#slot-member", label="Rita Rep")
    page.click("#slot-add")
    page.click("[data-testid=save-territory]")

    bad_row = nested.locator(".rb-row").nth(1)
    page.wait_for_selector(".rb-row.invalid")
    assert "field" in bad_row.locator(".rb-error").inner_text()
    shot("rule_builder_error")
    bad_row.locator(".rb-field").fill("industry")
    bad_row.locator(".rb-value").fill("fintech")
    rule_json = json.loads(page.locator("[data-testid=rule-json]").text_content())
    assert rule_json == {
        "all": [
            {"field": "country", "op": "in", "value": ["US", "CA", "MX"]},
            {
                "any": [
                    {"field": "employees", "op": "gte", "value": 100},
                    {"field": "industry", "op": "eq", "value": "fintech"},
                ]
            },
        ]
    }
    shot("rule_builder")
    page.click("[data-testid=save-territory]")
    page.wait_for_selector("[data-testid=tree] >> text=North America mid-market")
    territory = Territory.objects.get(workspace=workspace, name="North America mid-market")
    assert territory.rule == rule_json
    assert [slot.member_id for slot in territory.slots.all()] == [rep.pk]

    page.fill("[data-testid=match-fields]", "country=CA\nemployees=250")
    page.click("#match-run")
    page.locator("[data-testid=match-result] p").first.wait_for()  # CSP: no string predicates
    assert "North America mid-market" in page.inner_text("[data-testid=match-result]")
    shot("territories")

    # A play allocates a test record through the API; the admin finds it in the history.
    response = make_client(workspace).post(
        "/api/v1/allocations/",
        {
            "record": {
                "type": "lead",
                "id": "00QTEST1",
                "fields": {"country": "US", "employees": 500},
            }
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["territory"]["name"] == "North America mid-market"
    allocation_id = response.json()["id"]
    page.click("nav >> text=Allocations")
    page.fill("input[name=record_id]", "00QTEST1")
    page.click("button:has-text('Filter')")
    shot("allocations")
    page.click(f"[data-testid=allocations-table] >> text={allocation_id}")
    page.wait_for_selector("[data-testid=trace]")
    assert "North America mid-market" in page.inner_text("main")
    shot("allocation_trace")

    page.select_option("[data-testid=reassign-form] select[name=member]", label="Sam Seller")
    page.fill("[data-testid=reassign-form] input[name=reason]", "Sam covers this account")
    page.click("[data-testid=reassign-form] button")
    page.wait_for_selector("text=Reassigned from")
    assert Allocation.objects.filter(workspace=workspace, owner__name="Sam Seller").count() == 1

    page.click("nav >> text=API keys")
    page.fill("input[name=name]", "play")
    page.click("button:has-text('Create key')")
    assert page.inner_text("[data-testid=issued-key] code").startswith("rvo_")
    shot("api_keys")


def test_viewer_cannot_reach_admin_pages(page, login, shot, workspace):
    viewer = MembershipFactory(workspace=workspace, role="viewer").user
    login(viewer.username, PASSWORD)
    assert page.locator("nav >> text=API keys").count() == 0
    response = page.goto("/api-keys/")
    assert response.status == 403
    assert "Not allowed" in page.inner_text("h1")
    shot("viewer_forbidden")
    assert page.goto("/territories/new/").status == 403


def test_manager_reassigns_an_allocation_with_a_required_reason(page, login, shot, workspace):
    lead = MemberFactory(workspace=workspace, name="Team Lead")  # the manager's scope
    manager = MembershipFactory(workspace=workspace, role="manager", member=lead).user
    allocation = AllocationFactory(
        workspace=workspace, owner__name="Old Owner", owner__manager=lead
    )
    MemberFactory(workspace=workspace, name="New Owner", manager=lead)
    login(manager.username, PASSWORD)
    page.goto(f"/allocations/{allocation.pk}/")
    page.click("[data-testid=reassign-form] button")
    assert "required" in page.inner_text("[data-error=reason]")
    page.select_option("[data-testid=reassign-form] select[name=member]", label="New Owner")
    page.fill("[data-testid=reassign-form] input[name=reason]", "Customer asked for a French rep")
    page.click("[data-testid=reassign-form] button")
    page.wait_for_selector("text=Reassigned from")
    assert "New Owner" in page.inner_text("main")
    shot("allocation_reassigned")
    assert Allocation.objects.filter(workspace=workspace, owner__name="New Owner").exists()


def test_manager_sets_a_capacity_and_admin_syncs_the_crm_with_progress(
    page, login, shot, workspace, admin, fake_sf
):
    from tests.capacities.factories import CapacityFactory
    from tests.crm_sync.test_sync_salesforce import user

    rep = MemberFactory(workspace=workspace, name="Rita Rep")
    CapacityFactory(member=MemberFactory(workspace=workspace, name="Full Fred"), limit=1)
    AllocationFactory(workspace=workspace, owner__name="Other")
    AllocationFactory.create(workspace=workspace, owner=rep)
    login(admin.username, PASSWORD)

    page.click("nav >> text=Capacities")
    page.select_option("[data-testid=capacity-form] select[name=member]", label="Rita Rep")
    page.fill("[data-testid=capacity-form] input[name=limit]", "4")
    page.click("[data-testid=capacity-form] button")
    page.wait_for_selector("text=Capacity for Rita Rep saved.")
    assert "1 used · 3 left" in page.inner_text("[data-testid=capacities]")
    shot("capacities")

    fake_sf.users = [user(f"005{i}", f"CRM Rep {i}", i % 9 + 1) for i in range(1, 6)]
    page.click("nav >> text=CRM")
    page.fill("[data-testid=connect-form] input[name=name]", "Prod org")
    page.fill("[data-testid=connect-form] input[name=instance_url]", fake_sf.instance_url)
    page.fill("[data-testid=connect-form] input[name=login_url]", fake_sf.instance_url)
    page.fill("[data-testid=connect-form] input[name=client_id]", "cid")
    page.fill("[data-testid=connect-form] input[name=client_secret]", "shh")
    page.click("[data-testid=connect-form] button")
    page.wait_for_selector("text=Salesforce connected.")
    page.click("button:has-text('Test')")
    page.wait_for_selector("text=connected; 14990 API requests left today")
    page.click("button:has-text('Sync now')")
    page.wait_for_selector("[data-testid=sync-run][data-status=succeeded]")
    assert "5 of 5 users processed" in page.inner_text("[data-testid=sync-run]")
    shot("sync_run")
    page.click("text=← CRM connections")
    assert "5 new" in page.inner_text("[data-testid=runs]")
    shot("crm")

    page.click("nav >> text=Dashboard")
    assert "Full Fred" in page.inner_text("[data-testid=utilisation]")
    shot("dashboard_utilisation")
