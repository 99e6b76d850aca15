"""The map in headless Chromium with every request to another host blocked: it renders from
the boundaries this server serves, colours regions by the chosen metric, names territories on
hover, lists a clicked state's territories and orphaned accounts, and splits pin clusters on
zoom."""

from urllib.parse import urlsplit

import pytest

from tests.factories import MembershipFactory
from tests.geo.helpers import attainment_book, current_and_previous_quarter, small_book

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "pw-for-tests-1"


@pytest.fixture
def offline(page):
    """Every request to a host other than this machine's is aborted and recorded."""
    blocked = []

    def route(route):
        host = urlsplit(route.request.url).hostname or ""
        if host in ("127.0.0.1", "localhost", "::1"):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    page.route("**/*", route)
    return blocked


@pytest.fixture
def mapped(workspace, settings):
    settings.JOBS_EAGER_MODE = "inline"
    book = small_book(workspace)
    # The page places the book itself on first load (the locate job, lazily).
    return book


def _ready(page):
    page.wait_for_selector("#map[data-ready='1']", timeout=20_000)


# A point inside a region's shape, in page coordinates (its box's centre may be a neighbour).
INSIDE = """(path) => {
  const box = path.getBBox();
  const svg = path.ownerSVGElement;
  const matrix = path.getScreenCTM();
  for (let i = 1; i < 20; i++) {
    for (let j = 1; j < 20; j++) {
      const point = svg.createSVGPoint();
      point.x = box.x + (box.width * i) / 20;
      point.y = box.y + (box.height * j) / 20;
      if (path.isPointInFill(point)) {
        const screen = point.matrixTransform(matrix);
        if (document.elementFromPoint(screen.x, screen.y) === path) return [screen.x, screen.y];
      }
    }
  }
  return null;
}"""


def _point(page, selector):
    x, y = page.locator(selector).evaluate(INSIDE)
    return x, y


def _fill(page, selector):
    return page.get_attribute(selector, "fill")


def test_the_map_renders_offline_and_answers_the_user(
    page, login, shot, offline, workspace, mapped
):
    admin = MembershipFactory(workspace=workspace, role="admin").user
    login(admin.username, PASSWORD)
    page.goto("/map/")
    _ready(page)
    # First load placed the accounts lazily; a reload shows them all placed.
    page.reload()
    _ready(page)
    assert page.locator("path.map-country").count() > 150
    assert page.locator("path.map-state").count() >= 50
    placement = page.inner_text("[data-testid=map-placement]")
    assert "8 accounts" in placement and "2 without a known place" in placement
    california, new_york = "path.map-state[data-code='US-CA']", "path.map-state[data-code='US-NY']"
    by_accounts = (_fill(page, california), _fill(page, new_york))
    shot("map_world_accounts")

    # Colour by white space: New York (2 orphaned) now outshines California (1 of 3).
    page.select_option("[data-testid=map-metric]", "white_space")
    by_white_space = (_fill(page, california), _fill(page, new_york))
    assert by_white_space != by_accounts
    assert page.get_attribute(new_york, "data-value") == "2"
    shot("map_world_white_space")

    # Hover names the territory.
    page.mouse.move(*_point(page, california))
    tooltip = page.locator("[data-testid=map-tooltip]")
    assert "California" in tooltip.inner_text() and "West" in tooltip.inner_text()
    assert page.locator(".map-territory[data-territory] path").count() >= 3

    # A click on a state lists its territories and orphaned accounts.
    page.mouse.click(*_point(page, new_york))
    panel = page.locator("[data-testid=map-panel]")
    panel.locator("[data-testid=map-panel-orphans] li").first.wait_for()
    assert "None: white space." in panel.inner_text()
    assert panel.locator("[data-testid=map-panel-orphans] a").all_inner_texts() == [
        "Albany Co",
        "Buffalo Co",
    ]
    page.mouse.click(*_point(page, california))
    page.wait_for_selector("[data-testid=map-panel][data-region='US-CA']")
    territories = panel.locator("[data-testid=map-panel-territories] li").all_inner_texts()
    assert territories == ["West · level 1", "Bay Area · level 2"]
    assert "Fresno Co" in panel.inner_text()
    shot("map_region_panel")

    # Pins: at world zoom SF and LA are one cluster of 2; clicking it zooms in and splits it.
    clusters = page.locator("g.pin-cluster")
    assert sorted(int(c) for c in clusters.evaluate_all("n => n.map(e => e.dataset.count)")) == [
        2,
        2,
    ]
    west_coast = page.locator("g.pin-cluster").filter(
        has=page.locator("title", has_text="2 accounts")
    )
    pacific = [
        i
        for i in range(west_coast.count())
        if west_coast.nth(i).bounding_box()["x"] < page.locator("#map").bounding_box()["x"] + 300
    ]
    page.evaluate("() => { document.getElementById('map').dataset.ready = ''; }")
    west_coast.nth(pacific[0]).click()
    page.wait_for_selector("#map[data-ready='1'][data-zoom='2']")
    names = page.locator("g.pin-account title").evaluate_all("n => n.map(e => e.textContent)")
    assert {"SF Co", "LA Co"} <= set(names)
    shot("map_zoomed_california")

    # The owner filter narrows the book.
    page.click("[data-testid=map-zoom-reset]")
    page.select_option("[data-testid=map-owner]", label="Bob Lee")
    page.wait_for_selector("#map[data-ready='1'][data-zoom='0']")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=map-placement]').textContent"
        ".startsWith('1 accounts')"
    )
    assert page.locator("g.pin").count() == 1
    assert offline == []


def test_the_map_colours_regions_by_attainment_of_a_period(
    page, login, shot, offline, workspace, settings
):
    """Figures of tests/geo/test_attainment.py: this quarter California 37.5 % (West and
    Golden State), Washington 50 % (West), France 25 %; the previous quarter California and
    Washington 30 % (West alone has a quota), France none."""
    settings.JOBS_EAGER_MODE = "inline"
    attainment_book(workspace)
    _this, previous = current_and_previous_quarter(workspace)
    viewer = MembershipFactory(workspace=workspace, role="viewer").user
    login(viewer.username, PASSWORD)
    page.goto("/map/")
    _ready(page)
    california = "path.map-state[data-code='US-CA']"
    washington = "path.map-state[data-code='US-WA']"
    france = "path.map-country[data-code='FR']"
    page.select_option("[data-testid=map-metric]", "attainment")
    assert page.get_attribute(california, "data-value") == "0.375"
    assert page.get_attribute(washington, "data-value") == "0.5"
    assert page.get_attribute(france, "data-value") == "0.25"
    assert page.get_attribute("path.map-state[data-code='US-NY']", "data-value") == ""
    # Washington (the best) is the darkest; California and France are lighter, in order.
    fills = [_fill(page, selector) for selector in (washington, california, france)]
    assert len(set(fills)) == 3
    assert "Attainment" in page.inner_text("[data-testid=map-legend]")
    assert "50 %" in page.inner_text("[data-testid=map-legend]")
    page.mouse.move(*_point(page, california))
    tooltip = page.inner_text("[data-testid=map-tooltip]")
    assert "Attainment: 38 %" in tooltip and "Golden State" in tooltip
    shot("map_world_attainment")

    # Another period: the map asks again and colours by that quarter's attainment.
    page.evaluate("() => { document.getElementById('map').dataset.ready = ''; }")
    page.select_option("[data-testid=map-period]", label=previous.label)
    _ready(page)
    assert page.get_attribute(california, "data-value") == "0.3"
    assert page.get_attribute(washington, "data-value") == "0.3"
    assert page.get_attribute(france, "data-value") == ""
    assert _fill(page, california) == _fill(page, washington)
    shot("map_world_attainment_previous_quarter")
    assert offline == []


def test_a_viewer_sees_the_map_without_the_locate_button(page, login, offline, workspace, mapped):
    viewer = MembershipFactory(workspace=workspace, role="viewer").user
    login(viewer.username, PASSWORD)
    page.goto("/map/")
    _ready(page)
    assert page.locator("[data-testid=map-locate]").count() == 0
    assert offline == []
