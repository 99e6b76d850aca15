"""The comparison page in headless Chromium: Chart.js (served from node_modules, no CDN)
draws both charts beside the table; a period preset fills the dates."""

import pytest

from tests.factories import MembershipFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "pw-for-tests-1"


def test_the_comparison_page_draws_its_charts(page, login, shot, workspace, book, live_server):
    viewer = MembershipFactory(workspace=workspace, role="viewer").user
    requests_outside = []
    page.on(
        "request",
        lambda request: None
        if request.url.startswith(live_server.url)
        else requests_outside.append(request.url),
    )
    login(viewer.username, PASSWORD)

    page.goto("/performance/?period_start=2026-01-01&period_end=2026-03-31")
    page.wait_for_selector("body[data-charts-rendered='2']")
    for canvas in ("#chart-amounts", "#chart-rates"):
        box = page.locator(canvas).bounding_box()
        assert box["width"] > 200 and box["height"] > 100
    # A drawn chart has coloured pixels: the canvas is not blank.
    painted = page.evaluate(
        """() => { const c = document.getElementById('chart-amounts');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n++; return n; }"""
    )
    assert painted > 1000
    assert page.locator("[data-testid=compare-table] tbody tr").count() == 4
    assert requests_outside == []
    shot("performance_compare")

    last_month = page.locator("#period-preset option").last.get_attribute("value")
    page.select_option("#period-preset", value=last_month)
    start, end = last_month.split("|")
    assert (page.input_value("#period-start"), page.input_value("#period-end")) == (start, end)
