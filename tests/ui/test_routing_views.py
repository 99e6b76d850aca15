"""The routing views in headless Chromium: the unassigned queue drains after a reassign,
a member added with a zone from the picker and then deactivated, an account lock created
and removed, and a new owner of last resort taking the next record nobody else can."""

import pytest

from allocation.models import Allocation
from members.models import Member
from revorg.models import UserPreference
from territories.models import AccountLock
from tests.allocation.factories import AllocationFactory
from tests.factories import MemberFactory, MembershipFactory, TerritoryFactory, api_key_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "pw-for-tests-1"


@pytest.fixture
def admin(workspace, login, page):
    user = MembershipFactory(workspace=workspace, role="admin").user
    login(user.username, PASSWORD)
    return user


def test_the_unassigned_queue_drains_after_a_reassign(page, shot, workspace, admin):
    waiting = AllocationFactory(workspace=workspace, owner=None, status="unassigned")
    stuck = AllocationFactory(
        workspace=workspace,
        owner=None,
        status="unassigned",
        record_id="00QSTUCK",
        record_fields={"country": "FR", "industry": "retail"},
    )
    MemberFactory(workspace=workspace, name="Rescue Rita")
    page.goto("/")
    assert page.inner_text("[data-testid=unassigned]") == "2"
    shot("dashboard_two_unassigned")
    page.click("text=Open queue")
    page.wait_for_selector("h1:has-text('Unassigned queue')")
    table = page.locator("[data-testid=allocations-table]")
    assert table.locator(f"a[href='/allocations/{stuck.pk}/']").count() == 1
    shot("unassigned_queue_before")

    table.locator(f"a[href='/allocations/{stuck.pk}/']").click()
    page.wait_for_url(f"**/allocations/{stuck.pk}/")
    assert page.inner_text("[data-testid=status]") == "unassigned"
    fields = page.inner_text("[data-testid=fields]")
    assert "industry" in fields and "retail" in fields
    form = page.locator("[data-testid=reassign-form]")
    form.locator("select[name=member]").select_option(label="Rescue Rita")
    form.locator("input[name=reason]").fill("picked from the queue")
    page.wait_for_load_state("networkidle")
    form.locator("button").click()
    page.wait_for_selector("text=Reassigned from")
    new = Allocation.objects.get(reassigned_from=stuck)
    shot("allocation_after_reassign")

    page.goto(f"/allocations/{stuck.pk}/")
    assert page.inner_text("[data-testid=state]") == "reassigned"
    page.click(f"[data-testid=successor] >> text=#{new.pk}")
    page.wait_for_url(f"**/allocations/{new.pk}/")
    assert "Rescue Rita" in page.inner_text("[data-testid=record]")
    shot("allocation_detail_successor")

    page.goto("/allocations/?status=unassigned&current=yes")
    table = page.locator("[data-testid=allocations-table]")
    assert table.locator(f"a[href='/allocations/{stuck.pk}/']").count() == 0
    assert table.locator(f"a[href='/allocations/{waiting.pk}/']").count() == 1
    shot("unassigned_queue_after")
    page.goto("/")
    assert page.inner_text("[data-testid=unassigned]") == "1"


def test_add_a_member_with_a_zone_from_the_picker_then_deactivate(page, shot, workspace, admin):
    page.goto("/members/")
    page.click("[data-testid=add-member] summary")
    form = page.locator("[data-testid=add-member] form")
    form.locator("input[name=name]").fill("Priya Picker")
    form.locator("input[name=email]").fill("priya@acme.test")
    zone = form.locator("input[name=timezone]")
    zone.fill("Kolk")
    # The picker is the browser's own list of the zones that contain what was typed.
    options = page.eval_on_selector_all(
        "#timezones option", "opts => opts.map(o => o.value).filter(v => v.includes('Kolk'))"
    )
    assert options == ["Asia/Kolkata"]
    zone.fill(options[0])
    shot("member_add_form")
    form.locator("button").click()
    page.wait_for_selector("h1:has-text('Priya Picker')")
    member = Member.objects.get(workspace=workspace, name="Priya Picker")
    assert member.timezone == "Asia/Kolkata" and member.is_active
    assert page.inner_text("[data-testid=member-status]") == "active"
    shot("member_page_new")

    page.click("text=show them in Priya Picker's zone")
    assert "Asia/Kolkata" in page.inner_text("[data-testid=zone-switch]")

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("[data-testid=activation] button:has-text('Deactivate')")
    page.wait_for_selector("[data-testid=activation] button:has-text('Reactivate')")
    assert page.inner_text("[data-testid=member-status]") == "inactive"
    member.refresh_from_db()
    assert not member.is_active
    shot("member_page_deactivated")
    page.goto("/members/?active=no")
    assert "Priya Picker" in page.inner_text("[data-testid=members-table]")


def test_create_and_remove_an_account_lock(page, shot, workspace, admin):
    TerritoryFactory(workspace=workspace, name="Enterprise West")
    target = TerritoryFactory(workspace=workspace, name="Strategic Accounts")
    page.goto("/account-locks/")
    assert "No account is locked" in page.inner_text("[data-testid=locks]")
    form = page.locator("[data-testid=lock-form]")
    form.locator("input[name=account]").fill("Globex.com")
    form.locator("select[name=territory]").select_option(label="Strategic Accounts")
    form.locator("input[name=reason]").fill("board decision")
    form.locator("button").click()
    page.wait_for_selector("text=globex.com is locked to Strategic Accounts")
    row = page.locator("[data-testid=locks] tr", has_text="globex.com")
    assert "Strategic Accounts" in row.inner_text()
    lock = AccountLock.objects.get(workspace=workspace)
    assert (lock.account, lock.territory_id) == ("globex.com", target.pk)
    shot("account_locks_one")

    page.fill("input[name=q]", "nothing-like-it")
    page.click("form.filters button")
    assert "No lock for an account matching" in page.inner_text("[data-testid=locks]")
    page.goto("/account-locks/")

    page.once("dialog", lambda dialog: dialog.accept())
    row = page.locator("[data-testid=locks] tr", has_text="globex.com")
    row.locator("button:has-text('Remove')").click()
    page.wait_for_selector("text=Lock of globex.com removed.")
    assert not AccountLock.objects.filter(workspace=workspace).exists()
    shot("account_locks_removed")


def test_a_new_owner_of_last_resort_takes_the_next_record(
    page, shot, workspace, admin, live_server
):
    import requests

    TerritoryFactory(workspace=workspace, name="Everything, nobody in it")
    MemberFactory(workspace=workspace, name="Kim Keeper")
    key = api_key_for(workspace)

    def allocate():
        response = requests.post(
            f"{live_server.url}/api/v1/allocations/",
            json={"record": {"type": "lead", "fields": {"country": "US"}}},
            headers={"Authorization": f"Bearer {key}"},
            timeout=10,
        )
        assert response.status_code == 201, response.text
        return response.json()

    assert allocate()["status"] == "unassigned"
    page.goto("/settings/")
    page.fill("input[name=member_q]", "kim")
    page.click("button:has-text('Find')")
    page.select_option("[data-testid=default-member]", label="Kim Keeper · kim.keeper@example.com")
    page.fill("input[name=name]", "Acme RevOps")
    shot("workspace_settings")
    page.click("button:has-text('Save settings')")
    page.wait_for_selector("text=Workspace settings saved.")
    assert "Kim Keeper" in page.inner_text("[data-testid=default-member]")

    made = allocate()
    assert (made["status"], made["owner"]["name"]) == ("fallback", "Kim Keeper")
    page.goto(f"/allocations/{made['id']}/")
    assert page.inner_text("[data-testid=status]") == "fallback"
    trace = page.inner_text("[data-testid=trace]")
    assert "fallback" in trace and "Kim Keeper" in trace
    shot("allocation_fallback_to_last_resort")


def test_the_browser_reports_its_zone_once(chromium, live_server, workspace):
    user = MembershipFactory(workspace=workspace, role="viewer").user
    context = chromium.new_context(base_url=live_server.url, timezone_id="America/Chicago")
    page = context.new_page()
    page.goto("/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=zone-link]:has-text('America/Chicago')")
    assert UserPreference.objects.get(user=user).timezone == "America/Chicago"
    page.goto("/preferences/timezone/")
    assert "America/Chicago" in page.inner_text("[data-testid=viewer-zone]")
    context.close()


def test_the_member_page_switches_to_the_members_zone(page, shot, workspace, admin):
    from datetime import UTC, datetime, timedelta

    from django.utils import timezone

    from tests.capacities.factories import CapacityFactory, allocate_to
    from tests.factories import AbsenceFactory, TerritorySlotFactory

    rep = MemberFactory(workspace=workspace, name="Tomo Tokyo", timezone="Asia/Tokyo")
    TerritorySlotFactory(territory__workspace=workspace, territory__name="APAC", member=rep)
    CapacityFactory(member=rep, limit=8, period="day", name="Daily leads")
    allocate_to(rep, 3)
    AbsenceFactory(
        member=rep,
        starts_at=datetime(2031, 5, 1, 0, 0, tzinfo=UTC),
        ends_at=datetime(2031, 5, 8, 0, 0, tzinfo=UTC),
        reason="Golden Week",
    )
    now = timezone.now()
    AbsenceFactory(member=rep, starts_at=now - timedelta(hours=1), ends_at=now + timedelta(days=1))
    page.goto("/members/")
    row = page.locator("[data-testid=members-table] tr", has_text="Tomo Tokyo")
    assert "absent now" in row.inner_text()
    shot("members_absent_now")

    page.goto(f"/members/{rep.pk}/")
    absences = page.inner_text("[data-testid=absences]")
    assert "2031-05-01 00:00 UTC → 2031-05-08 00:00 UTC" in absences
    assert "APAC" in page.inner_text("[data-testid=slots]")
    assert "3 used · 5 left" in page.inner_text("[data-testid=member-capacities]")
    page.click("text=show them in Tomo Tokyo's zone")
    page.wait_for_url(lambda url: url.endswith("?zone=member"))
    absences = page.inner_text("[data-testid=absences]")
    assert "2031-05-01 09:00 Asia/Tokyo → 2031-05-08 09:00 Asia/Tokyo" in absences
    assert "Asia/Tokyo" in page.inner_text("[data-testid=member-capacities]")  # the reset
    shot("member_page_members_zone")
