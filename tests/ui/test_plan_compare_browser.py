"""The plan-comparison page in headless Chromium: from the plan picker ("Compare with
active") an admin starts the whole-book simulation, the progress card follows it and the page
reloads with the result; the bar chart renders from the page's data (Chart.js served
locally, CSP-safe), and the rep filter narrows the moves."""

import pytest

from tests.factories import MembershipFactory
from tests.planning.helpers import small_book

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "pw-for-tests-1"


def test_compare_a_draft_with_the_active_plan(page, login, shot, workspace):
    book = small_book(workspace)
    admin = MembershipFactory(workspace=workspace, role="admin").user
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "response",
        lambda r: r.status >= 400 and "favicon" not in r.url and errors.append(r.url),
    )
    login(admin.username, PASSWORD)

    page.goto(f"/territories/?plan={book.draft.pk}")
    page.click("[data-testid=compare-with-active]")
    page.wait_for_selector("[data-testid=no-simulation]")
    page.click("[data-testid=simulate]")
    page.wait_for_selector("[data-testid=balance-accounts]", timeout=30_000)

    assert page.inner_text("[data-testid=balance-accounts]") == "71.72 → 25.46"
    assert page.inner_text("[data-testid=moves-count]") == "2"
    page.wait_for_selector("[data-testid=compare-chart][data-rendered='4']")
    assert page.locator("[data-testid=move]").count() == 2
    assert "Dee" in page.inner_text("[data-testid=winners]")
    assert "Bob" in page.inner_text("[data-testid=losers]")
    shot("plan_compare")

    page.select_option("[data-testid=filter-member]", label="Dee")
    page.wait_for_url(f"**/compare/?*member={book.dee.pk}*")
    page.wait_for_selector("[data-testid=compare-chart][data-rendered='1']")
    assert page.locator("[data-testid=move]").count() == 1
    assert "South" in page.inner_text("[data-testid=moves]")
    shot("plan_compare_filtered")
    assert errors == []
