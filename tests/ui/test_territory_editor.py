"""The territory editor in headless Chromium: an admin edits every setting of a territory and
sees each one change what "Test a record" (a dry run of the real engine) answers; a
named-account territory saves without a rule; an archived plan is read-only."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from territories.models import Territory
from tests.factories import (
    MemberFactory,
    MembershipFactory,
    TerritoryFactory,
    TerritoryPlanFactory,
    TerritorySlotFactory,
    active_plan,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "pw-for-tests-1"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


@pytest.fixture
def admin(workspace):
    return MembershipFactory(workspace=workspace, role="admin").user


def run_test_record(page, text: str):
    """Pastes `text` into Test a record and waits for the server's answer to be shown."""
    page.fill("[data-testid=match-fields]", text)
    with page.expect_response(re.compile(r"/territories/test-record/$")):
        page.click("[data-testid=test-run]")
    return page.locator("[data-testid=match-result]")


def save(page, territory_id: int):
    page.click("[data-testid=save-territory]")
    page.wait_for_url(re.compile(r"/territories/\?plan=\d+$"))
    page.goto(f"/territories/{territory_id}/")


def test_rule_priority_slots_order_weights_and_distribution_take_effect(
    page, login, shot, workspace, admin
):
    plan = active_plan(workspace)
    MemberFactory(workspace=workspace, name="Ana Rossi")
    MemberFactory(workspace=workspace, name="Ben Okafor")
    MemberFactory(workspace=workspace, name="Oli Overlay")
    france = TerritoryFactory(
        workspace=workspace,
        plan=plan,
        name="France",
        priority=10,
        rule={"field": "country", "op": "eq", "value": "FR"},
    )
    TerritorySlotFactory(territory=france, member__name="Fran Solo")
    login(admin.username, PASSWORD)

    page.goto(f"/territories/new/?plan={plan.pk}")
    page.fill("[data-testid=t-name]", "Europe")
    page.fill("[data-testid=t-description]", "EU core markets")
    page.select_option("[data-testid=t-kind]", "geographic")
    page.fill("[data-testid=t-priority]", "20")
    row = page.locator("#rule-builder .rb-row").first
    row.locator(".rb-field").fill("country")
    row.locator(".rb-op").select_option("in")
    row.locator(".rb-value").fill("FR\nDE")
    for name, role in (
        ("Ana Rossi", "primary"),
        ("Ben Okafor", "primary"),
        ("Oli Overlay", "overlay"),
    ):
        page.select_option("#slot-member", label=name)
        page.select_option("#slot-role", role)
        page.click("#slot-add")
    page.click("[data-testid=save-territory]")
    page.wait_for_selector("[data-testid=tree] >> text=Europe")
    europe = Territory.objects.get(workspace=workspace, name="Europe")
    assert (europe.description, europe.kind, europe.priority) == (
        "EU core markets",
        "geographic",
        20,
    )

    page.goto(f"/territories/{europe.pk}/")
    result = run_test_record(page, "country: FR")
    expect(result.locator("[data-testid=test-territory]")).to_have_text("Europe")
    expect(result.locator("[data-testid=test-owner]")).to_contain_text("Ana Rossi")
    expect(result.locator("[data-testid=test-distribution]")).to_contain_text(
        "Ana Rossi chosen — round_robin turn 1 of 2"
    )
    expect(result.locator("[data-testid=test-resolution]")).to_contain_text("also matched: France")
    expect(result).to_contain_text("Overlays")
    expect(result).to_contain_text("Oli Overlay")

    # Slot order by drag: Ben before Ana takes the first turn.
    slots = page.locator("[data-testid=slots] li")
    slots.nth(1).drag_to(slots.nth(0))
    expect(slots.nth(0)).to_contain_text("Ben Okafor")
    save(page, europe.pk)
    assert [s.member.name for s in europe.slots.order_by("position")][:2] == [
        "Ben Okafor",
        "Ana Rossi",
    ]
    expect(
        run_test_record(page, "country: FR").locator("[data-testid=test-owner]")
    ).to_contain_text("Ben Okafor")

    # Weighted distribution with Ana at weight 3: the smooth rotation picks her first.
    page.select_option("[data-testid=t-distribution]", "weighted")
    page.locator("[data-testid=slots] li", has_text="Ana Rossi").locator(".rb-weight").fill("3")
    save(page, europe.pk)
    result = run_test_record(page, "country: DE")
    expect(result.locator("[data-testid=test-distribution]")).to_contain_text(
        "Ana Rossi chosen — weighted (weight 3 of 4)"
    )
    shot("territory_editor")
    page.locator("[data-testid=test-record]").screenshot(
        path=str(SCREENSHOTS / "test_a_record.png")
    )

    # Priority below France's: France wins the French record now.
    page.fill("[data-testid=t-priority]", "5")
    save(page, europe.pk)
    result = run_test_record(page, "country: FR")
    expect(result.locator("[data-testid=test-territory]")).to_have_text("France")
    expect(result.locator("[data-testid=test-owner]")).to_contain_text("Fran Solo")


def test_member_rule_fallbacks_active_flag_and_parent_take_effect(
    page, login, shot, workspace, admin
):
    plan = active_plan(workspace)
    ana = MemberFactory(workspace=workspace, name="Ana Rossi", metadata={"languages": ["fr"]})
    ben = MemberFactory(workspace=workspace, name="Ben Okafor", metadata={"languages": ["en"]})
    MemberFactory(workspace=workspace, name="Cy Fallback")
    europe = TerritoryFactory(
        workspace=workspace,
        plan=plan,
        name="Europe",
        rule={"field": "country", "op": "in", "value": ["FR", "DE"]},
    )
    TerritorySlotFactory(territory=europe, member=ana, position=0)
    TerritorySlotFactory(territory=europe, member=ben, position=1)
    rest = TerritoryFactory(workspace=workspace, plan=plan, name="Rest of world", priority=-10)
    TerritorySlotFactory(territory=rest, member__name="Dee Global")
    TerritoryFactory(
        workspace=workspace,
        plan=plan,
        name="EMEA",
        rule={"field": "region", "op": "eq", "value": "emea"},
    )
    login(admin.username, PASSWORD)
    page.goto(f"/territories/{europe.pk}/")

    # Member eligibility: the record's language must be one of the member's languages.
    expect(
        page.locator("[data-testid=member-rule-builder] [data-testid=rb-empty]")
    ).to_contain_text("every member of the slots is eligible")
    member_rule = page.locator("#member-rule-builder > .rb-group")
    member_rule.locator(":scope > .rb-head .rb-add-row").click()
    row = member_rule.locator(".rb-row").first
    row.locator(".rb-field").fill("language")
    row.locator(".rb-op").select_option("in")
    assert "member.languages" in row.locator(".rb-source option").all_inner_texts()
    row.locator(".rb-source").select_option("member.languages")
    expect(row.locator(".rb-value")).to_be_hidden()
    save(page, europe.pk)
    europe.refresh_from_db()
    assert europe.member_rule == {
        "all": [{"field": "language", "op": "in", "value_from": "member.languages"}]
    }
    result = run_test_record(page, "country: FR\nlanguage: en")
    expect(result.locator("[data-testid=test-exclusions]")).to_have_text(
        "Ana Rossi excluded — primary: member eligibility rule not met: "
        "language en is not in member.languages (fr)"
    )
    expect(result.locator("[data-testid=test-owner]")).to_contain_text("Ben Okafor")
    result = run_test_record(page, "country: FR")  # no language: nobody is eligible
    expect(result.locator("[data-testid=test-exclusions] li")).to_have_count(2)
    expect(result.locator("[data-testid=test-exclusions]")).to_contain_text(
        "Ben Okafor excluded — primary: member eligibility rule not met: the record has no language"
    )
    expect(result.locator("[data-testid=test-owner]")).to_contain_text("unassigned")

    # Fallback member, then (without it) the fallback territory's pool.
    page.select_option("[data-testid=t-fallback-member]", label="Cy Fallback")
    save(page, europe.pk)
    result = run_test_record(page, "country: FR")
    expect(result.locator("[data-testid=test-fallbacks]")).to_contain_text(
        "Cy Fallback chosen fallback member of Europe"
    )
    expect(result.locator("[data-testid=test-owner]")).to_contain_text("Cy Fallback")
    shot("test_a_record_fallback")
    page.select_option("[data-testid=t-fallback-member]", "")
    page.select_option("[data-testid=t-fallback-territory]", label="Rest of world")
    save(page, europe.pk)
    result = run_test_record(page, "country: FR")
    fallbacks = result.locator("[data-testid=test-fallbacks]")
    expect(fallbacks).to_contain_text("Rest of world followed fallback territory Rest of world")
    expect(result.locator("[data-testid=test-owner]")).to_contain_text("Dee Global")

    # Inactive: the French record falls through to the catch-all.
    page.uncheck("[data-testid=t-active]")
    save(page, europe.pk)
    result = run_test_record(page, "country: FR\nlanguage: fr")
    expect(result.locator("[data-testid=test-territory]")).to_have_text("Rest of world")

    # Active again under EMEA: its rule applies too (a record without region falls through).
    page.check("[data-testid=t-active]")
    page.select_option("[data-testid=t-parent]", label="EMEA")
    save(page, europe.pk)
    assert Territory.objects.get(pk=europe.pk).parent.name == "EMEA"
    result = run_test_record(page, "country: FR\nlanguage: fr")
    expect(result.locator("[data-testid=test-territory]")).to_have_text("Rest of world")
    result = run_test_record(page, "country: FR\nlanguage: fr\nregion: emea")
    expect(result.locator("[data-testid=test-territory]")).to_have_text("Europe")
    expect(result.locator("[data-testid=test-owner]")).to_contain_text("Ana Rossi")


def test_a_named_account_territory_saves_without_a_rule(page, login, shot, workspace, admin):
    plan = active_plan(workspace)
    MemberFactory(workspace=workspace, name="Sam Strategic")
    login(admin.username, PASSWORD)
    page.goto(f"/territories/new/?plan={plan.pk}")
    page.fill("[data-testid=t-name]", "Strategic accounts")
    page.select_option("[data-testid=t-kind]", "named_account")
    # The untouched first condition goes; the empty rule says what it means.
    expect(page.locator("#rule-builder .rb-row")).to_have_count(0)
    expect(page.locator("#rule-builder [data-testid=rb-empty]")).to_contain_text(
        "through its named accounts"
    )
    page.fill(
        "[data-testid=named-accounts]",
        "globex.com, initech.com\nGLOBEX.com  umbrella.example;initech.com",
    )
    expect(page.locator("[data-testid=named-count]")).to_have_text(
        "3 accounts · 2 duplicates removed"
    )
    page.select_option("#slot-member", label="Sam Strategic")
    page.click("#slot-add")
    shot("named_account_territory")
    page.click("[data-testid=save-territory]")
    page.wait_for_selector("[data-testid=tree] >> text=Strategic accounts")
    territory = Territory.objects.get(workspace=workspace, name="Strategic accounts")
    assert territory.rule is None
    assert territory.named_accounts == ["globex.com", "initech.com", "umbrella.example"]

    # From the territories index: JSON in, the named account routes it.
    result = run_test_record(page, '{"domain": "initech.com", "country": "US"}')
    expect(result.locator("[data-testid=test-territory]")).to_have_text("Strategic accounts")
    expect(result.locator("[data-testid=test-resolution]")).to_contain_text(
        "named account of Strategic accounts"
    )
    expect(result.locator("[data-testid=test-owner]")).to_contain_text("Sam Strategic")

    # Lines it cannot read are listed, and no decision is shown.
    result = run_test_record(page, "domain: initech.com\nthis is not a field\n")
    expect(result.locator("[data-testid=test-errors]")).to_contain_text(
        "line 2: this is not a field — expected key: value or key=value"
    )
    expect(result.locator("[data-testid=test-verdict]")).to_have_count(0)
    shot("test_a_record_errors")


def test_removing_the_root_group_leaves_an_empty_group_and_server_errors_land_on_rows(
    page, login, workspace, admin
):
    territory = TerritoryFactory(
        workspace=workspace, name="West", rule={"field": "state", "op": "eq", "value": "CA"}
    )
    login(admin.username, PASSWORD)
    page.goto(f"/territories/{territory.pk}/")
    root = page.locator("#rule-builder > .rb-group")
    root.locator(":scope > .rb-head .rb-remove-group").click()
    expect(root).to_be_visible()
    expect(root.locator("[data-testid=rb-empty]")).to_contain_text("matches every record")
    root.locator(":scope > .rb-head .rb-add-row").click()
    row = root.locator(".rb-row").first
    row.locator(".rb-field").fill("employees")
    row.locator(".rb-op").select_option("between")
    row.locator(".rb-value").fill("500, 100")
    page.click("[data-testid=save-territory]")
    expect(row.locator(".rb-error")).to_have_text("low must not exceed high")
    expect(row).to_have_class(re.compile("invalid"))
    territory.refresh_from_db()
    assert territory.rule == {"field": "state", "op": "eq", "value": "CA"}


def test_an_archived_plan_shows_no_edit_controls_and_the_api_refuses_a_write(
    page, login, shot, workspace, admin, make_client
):
    archived = TerritoryPlanFactory(workspace=workspace, name="FY25", status="archived")
    territory = TerritoryFactory(
        workspace=workspace,
        plan=archived,
        name="Old West",
        rule={"field": "state", "op": "eq", "value": "CA"},
        member_rule={"field": "language", "op": "in", "value_from": "member.languages"},
    )
    TerritorySlotFactory(territory=territory, member__name="Ana Rossi")
    login(admin.username, PASSWORD)

    page.goto(f"/territories/?plan={archived.pk}")
    expect(page.locator("[data-testid=read-only]")).to_contain_text("archived")
    for control in (
        "[data-testid=new-territory]",
        "[data-testid=plan-rename]",
        "[data-testid=plan-delete]",
    ):
        expect(page.locator(control)).to_have_count(0)
    page.click("text=Old West")
    expect(page.locator("[data-testid=read-only]")).to_contain_text("archived")
    for control in (
        "[data-testid=save-territory]",
        "[data-testid=delete-territory]",
        ".rb-add-row",
        ".rb-remove",
        ".slot-remove",
        "#slot-add",
    ):
        expect(page.locator(control)).to_have_count(0)
    expect(page.locator("[data-testid=t-name]")).to_be_disabled()
    expect(page.locator("[data-testid=t-name]")).to_have_value("Old West")
    expect(page.locator("#member-rule-builder .rb-source")).to_have_value("member.languages")
    expect(page.locator("[data-testid=slots]")).to_contain_text("Ana Rossi")
    shot("territory_archived")

    api = make_client(workspace)
    response = api.patch(f"/api/v1/territories/{territory.pk}/", {"name": "x"}, format="json")
    assert response.status_code == 409
    assert "plan 'FY25' is archived" in response.json()["detail"]
    assert Territory.objects.get(pk=territory.pk).name == "Old West"
