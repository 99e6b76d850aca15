"""The reassign form in headless Chromium, under a strict script Content-Security-Policy:
a member at capacity is warned about before submitting, and only a ticked override
reassigns to them."""

import pytest

from allocation.models import Allocation
from tests.allocation.factories import AllocationFactory
from tests.capacities.factories import CapacityFactory, allocate_to
from tests.factories import MemberFactory, MembershipFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "pw-for-tests-1"
STRICT_CSP = "script-src 'self'; object-src 'none'; base-uri 'none'"


@pytest.fixture
def strict_csp(page):
    """Serves every page with a CSP that forbids inline scripts and handlers, and collects
    the violations Chromium reports."""
    violations = []

    def with_csp(route):
        response = route.fetch()
        headers = {**response.headers, "content-security-policy": STRICT_CSP}
        route.fulfill(response=response, headers=headers)

    page.route(lambda url: "/static/" not in url and "/api/" not in url, with_csp)
    page.on(
        "console",
        lambda message: violations.append(message.text)
        if "Content Security Policy" in message.text
        else None,
    )
    return violations


def test_manager_is_warned_and_must_tick_override_to_reassign_to_a_full_member(
    page, login, shot, workspace, strict_csp
):
    lead = MemberFactory(workspace=workspace, name="Team Lead")  # the manager's scope
    manager = MembershipFactory(workspace=workspace, role="manager", member=lead).user
    entry = AllocationFactory(workspace=workspace, owner__name="Old Owner", owner__manager=lead)
    MemberFactory(workspace=workspace, name="Free Rep", manager=lead)
    full = MemberFactory(workspace=workspace, name="Full Rep", manager=lead)
    CapacityFactory(member=full, limit=1)
    allocate_to(full, 1)
    login(manager.username, PASSWORD)
    page.goto(f"/allocations/{entry.pk}/")
    form = page.locator("[data-testid=reassign-form]")
    warning = page.locator("[data-testid=reassign-warning]")
    override = form.locator("input[name=override]")

    page.wait_for_load_state("networkidle")  # the dry check of the first member
    assert warning.is_hidden() and override.is_hidden()  # Free Rep has room

    form.locator("select[name=member]").select_option(label="Full Rep")
    warning.wait_for(state="visible")
    assert "Full Rep cannot take this record now: day capacity 1/1" in warning.inner_text()
    assert override.is_visible() and not override.is_checked()
    shot("reassign_capacity_warning")

    form.locator("input[name=reason]").fill("Full Rep knows this customer")
    form.locator("button").click()
    assert "Tick override" in form.locator("[data-error=override]").inner_text()
    assert Allocation.objects.filter(workspace=workspace).count() == 2  # nothing written

    override.check()
    form.locator("button").click()
    page.wait_for_selector("text=Reassigned from")
    new = Allocation.objects.get(workspace=workspace, reassigned_from=entry)
    assert new.owner_id == full.pk
    assert new.decision[0]["outcome"] == "overridden"
    assert "day capacity 1/1" in page.inner_text("[data-testid=trace]")

    page.goto(f"/allocations/{entry.pk}/")  # the replaced entry links its successor
    assert page.locator("[data-testid=reassign-form]").count() == 0
    page.click(f"[data-testid=not-current] >> text=#{new.pk}")
    page.wait_for_url(f"**/allocations/{new.pk}/")
    assert strict_csp == []


def test_an_entry_replaced_while_the_form_is_open_says_which_is_current(
    page, login, workspace, strict_csp, make_client
):
    lead = MemberFactory(workspace=workspace, name="Team Lead")  # the manager's scope
    manager = MembershipFactory(workspace=workspace, role="manager", member=lead).user
    entry = AllocationFactory(
        workspace=workspace, owner__name="Old Owner", owner__manager=lead, record_id="00QX"
    )
    MemberFactory(workspace=workspace, name="Free Rep", manager=lead)
    other = MemberFactory(workspace=workspace, name="Other Rep", manager=lead)
    login(manager.username, PASSWORD)
    page.goto(f"/allocations/{entry.pk}/")
    page.wait_for_load_state("networkidle")
    winner = make_client(workspace).post(
        f"/api/v1/allocations/{entry.pk}/reassign/",
        {"member": other.pk, "reason": "someone else was faster"},
        format="json",
    )
    assert winner.status_code == 201
    form = page.locator("[data-testid=reassign-form]")
    form.locator("select[name=member]").select_option(label="Free Rep")
    form.locator("input[name=reason]").fill("mine")
    form.locator("button").click()
    detail = form.locator("[data-error=detail]")
    detail.locator("a").wait_for()
    assert "no longer current" in detail.inner_text()
    assert detail.locator("a").get_attribute("href") == f"/allocations/{winner.json()['id']}/"
    assert strict_csp == []
