"""Replay in headless Chromium: a manager opens the replay page from the plan page, a bad
window is refused under its field, a good one starts the job, the page follows its progress
by itself (HTMX polling) and then shows the per-rep table, the Chart.js bars and the records
that would have gone elsewhere."""

import pytest

from tests.factories import MembershipFactory
from tests.replay.factories import hand_example

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "pw-for-tests-1"


def test_manager_replays_history_through_a_draft_plan(page, login, shot, workspace):
    manager = MembershipFactory(workspace=workspace, role="manager").user
    example = hand_example(workspace)
    login(manager.username, PASSWORD)

    page.goto(f"/territories/?plan={example.plan.pk}")
    page.click("[data-testid=replay-link]")
    page.wait_for_url(f"**/territories/plans/{example.plan.pk}/replay/")
    page.fill("input[name=since]", "2026-03-04T00:00")
    page.fill("input[name=until]", "2026-03-02T00:00")
    page.click("[data-testid=replay-form] button")
    assert "must be after since" in page.inner_text("[data-testid=error-until]")
    shot("replay_form_error")

    page.fill("input[name=since]", "2026-03-02T00:00")
    page.fill("input[name=until]", "2026-03-04T00:00")
    page.click("[data-testid=replay-form] button")
    page.wait_for_url("**/replay/*/")
    page.wait_for_selector("[data-testid=replay-progress][data-status=succeeded]", timeout=20_000)
    page.wait_for_selector("[data-testid=replay-members]")

    assert page.inner_text("[data-testid=replay-rows]") == "11"
    assert page.inner_text("[data-testid=replay-moved]") == "5"
    assert page.inner_text("[data-testid=replay-unassigned]") == "1"
    rows = page.locator("[data-testid=replay-members] tbody tr").all_inner_texts()
    assert [row.split("\t") for row in rows] == [
        ["Ada", "10", "5", "-5"],
        ["Bo", "1", "3", "+2"],
        ["Cy", "0", "2", "+2"],
    ]
    assert page.locator("[data-testid=replay-moves] tbody tr").count() == 5
    page.wait_for_function("() => Chart.getChart(document.getElementById('replay-chart'))")
    bars = page.evaluate(
        "() => Chart.getChart(document.getElementById('replay-chart')).data.datasets"
        ".map(d => d.data)"
    )
    assert bars == [[10, 1, 0], [5, 3, 2]]
    shot("replay_result")

    page.goto(f"/territories/plans/{example.plan.pk}/replay/")
    assert page.locator("[data-testid=replays] tbody tr").count() == 1
