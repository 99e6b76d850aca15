"""Hostile text (territory names, descriptions, named accounts, rules, CRM-imported member
names, record fields) is shown as text on every page, never run: no dialog, no script, no
Content-Security-Policy violation, and the territory builder still builds and saves."""

import json
import re

import pytest

from revorg.models import Workspace
from territories.models import Territory
from tests.allocation.factories import AllocationFactory
from tests.capacities.factories import CapacityFactory
from tests.factories import (
    AccountLockFactory,
    MemberFactory,
    MembershipFactory,
    TerritoryFactory,
    TerritorySlotFactory,
    UserFactory,
    active_plan,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "pw-for-tests-1"

# Breaks out of a <script> block, out of an attribute, out of a JS string, and tries markup.
HOSTILE = "</script><script>alert(1)</script>\"><img src=x onerror=alert(2)>'-alert(3)-'<b>{{7*7}}"


@pytest.fixture
def watched(page):
    """Records every dialog, page error and CSP report the browser raises."""
    seen = {"dialogs": [], "errors": [], "csp": []}

    def on_dialog(dialog):
        seen["dialogs"].append(dialog.message)
        dialog.dismiss()

    def on_console(message):
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            seen["csp"].append(message.text)

    page.on("dialog", on_dialog)
    page.on("console", on_console)
    page.on("pageerror", lambda error: seen["errors"].append(str(error)))
    return seen


@pytest.fixture
def hostile_workspace(workspace):
    workspace.name = HOSTILE
    workspace.save()
    plan = active_plan(workspace)
    plan.name = HOSTILE[:200]
    plan.save()
    crm_rep = MemberFactory(
        workspace=workspace,
        name=HOSTILE,
        title=HOSTILE,
        role=HOSTILE[:100],
        crm_provider="salesforce",
        crm_user_id="005HOSTILE",
        metadata={"languages": [HOSTILE], "specialisations": [HOSTILE]},
    )
    safe_rep = MemberFactory(workspace=workspace, name="Safe Rep")
    parent = TerritoryFactory(
        workspace=workspace, plan=plan, name=f"{HOSTILE} parent", description=HOSTILE
    )
    territory = TerritoryFactory(
        workspace=workspace,
        plan=plan,
        parent=parent,
        name=HOSTILE,
        description=HOSTILE,
        kind="named_account",
        named_accounts=[HOSTILE, "acme.example"],
        rule={"field": "country", "op": "in", "value": [HOSTILE, "US"]},
    )
    TerritorySlotFactory(territory=territory, member=crm_rep)
    AccountLockFactory(territory=territory, account=HOSTILE[:255])
    CapacityFactory(member=crm_rep, name=HOSTILE[:100])
    allocation = AllocationFactory(
        workspace=workspace,
        owner=crm_rep,
        territory=territory,
        record_id=HOSTILE[:255],
        record_fields={HOSTILE: HOSTILE, "country": "US"},
        decision=[{"step": HOSTILE, "territory": HOSTILE, "reason": HOSTILE}],
    )
    # A second workspace with a hostile name fills the workspace switcher.
    admin = MembershipFactory(workspace=workspace, role="admin").user
    other = Workspace.objects.create(slug="other", name=f"{HOSTILE} two")
    MembershipFactory(workspace=other, user=admin)
    return {
        "admin": admin,
        "plan": plan,
        "territory": territory,
        "rep": crm_rep,
        "safe_rep": safe_rep,
        "allocation": allocation,
    }


def visit(page, path):
    response = page.goto(path)
    assert response.status == 200, path
    policy = response.headers.get("content-security-policy", "")
    assert "script-src 'self'" in policy, path
    page.wait_for_load_state("load")
    return response


def test_hostile_text_never_runs_on_any_page_and_the_builder_still_saves(
    page, login, shot, watched, hostile_workspace
):
    data = hostile_workspace
    login(data["admin"].username, PASSWORD)
    territory = data["territory"]
    for path in [
        "/",
        "/members/",
        f"/members/{data['rep'].pk}/",
        f"/territories/?plan={data['plan'].pk}",
        f"/territories/new/?plan={data['plan'].pk}",
        "/capacities/",
        "/allocations/",
        f"/allocations/{data['allocation'].pk}/",
        "/crm/",
        "/api-keys/",
        f"/territories/{territory.pk}/",
    ]:
        visit(page, path)

    # The builder received the hostile values intact, as data.
    assert page.input_value("[data-testid=t-name]") == HOSTILE
    assert page.input_value("[data-testid=t-description]") == HOSTILE
    assert HOSTILE in json.loads(page.text_content("[data-testid=rule-json]"))["all"][0]["value"]
    assert HOSTILE in page.inner_text("[data-testid=slots]")
    shot("builder_hostile")

    # ...and still works: add a condition, save, reload shows it.
    top = page.locator("#rule-builder > .rb-group")
    top.locator(":scope > .rb-head .rb-add-row").click()
    row = top.locator(":scope > .rb-children > .rb-row").last
    row.locator(".rb-field").fill("industry")
    row.locator(".rb-value").fill("fintech")
    page.select_option("#slot-member", label="Safe Rep")
    page.click("#slot-add")
    page.click("[data-testid=save-territory]")
    page.wait_for_url(re.compile(r"/territories/\?plan=\d+$"))
    visit(page, f"/territories/{territory.pk}/")
    fields = page.locator("#rule-builder .rb-field")
    assert [fields.nth(i).input_value() for i in range(fields.count())] == ["country", "industry"]
    assert "Safe Rep" in page.inner_text("[data-testid=slots]")
    territory.refresh_from_db()
    assert territory.rule == {
        "all": [
            {"field": "country", "op": "in", "value": [HOSTILE, "US"]},
            {"field": "industry", "op": "eq", "value": "fintech"},
        ]
    }
    assert Territory.objects.get(pk=territory.pk).name == HOSTILE

    # The territory test box renders the hostile winner as text too.
    visit(page, f"/territories/?plan={data['plan'].pk}")
    page.fill("[data-testid=match-fields]", f"country={HOSTILE}\nindustry=fintech")
    page.click("#match-run")
    page.wait_for_selector("[data-testid=match-result] [data-testid=test-territory]")
    assert HOSTILE in page.inner_text("[data-testid=match-result] [data-testid=test-territory]")

    assert watched == {"dialogs": [], "errors": [], "csp": []}


def test_confirm_and_workspace_switch_work_from_the_static_script(
    page, login, watched, hostile_workspace
):
    """The inline onsubmit/onchange handlers moved to static/js/ui.js: confirm still asks."""
    data = hostile_workspace
    CapacityFactory(member=data["safe_rep"])
    login(data["admin"].username, PASSWORD)
    visit(page, "/capacities/")
    remove = page.locator("form[data-confirm] button").first
    remove.click()  # the dialog handler dismisses: nothing is removed
    assert watched["dialogs"] == ["Remove this capacity?"]
    assert page.locator("form[data-confirm]").count() == 2

    page.select_option("select[name=workspace]", label=f"{HOSTILE} two")
    page.wait_for_selector("text=No allocations in the last 30 days")  # the other workspace
    assert page.locator("select[name=workspace] option:checked").inner_text() == f"{HOSTILE} two"
    assert watched["csp"] == [] and watched["errors"] == []


def test_admin_and_api_docs_work_under_the_policy(page, watched, workspace):
    superuser = UserFactory(is_staff=True, is_superuser=True)
    MembershipFactory(workspace=workspace, user=superuser)
    territory = TerritoryFactory(workspace=workspace, name=HOSTILE)
    page.goto("/admin/login/")
    page.fill("input[name=username]", superuser.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")
    visit(page, "/admin/territories/territory/")
    assert HOSTILE in page.inner_text("#result_list")
    # The admin is read-only for plan content: its object page shows the name, escaped.
    visit(page, f"/admin/territories/territory/{territory.pk}/change/")
    visit(page, "/api/docs/")
    page.wait_for_selector(".swagger-ui .info .title")
    assert "revorg API" in page.inner_text(".swagger-ui .info .title")
    assert watched == {"dialogs": [], "errors": [], "csp": []}
