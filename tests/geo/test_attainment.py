"""Attainment on the map, against a hand-computed example: a region's attainment is Σ won /
Σ quota of the outermost territories covering it that have a quota (a child covering the same
region is already inside its parent's rolled-up figures), for the current fiscal quarter or
the period asked.

The book is tests/geo/helpers.py's `attainment_book`: the small book (West: US-CA + US-WA, its
child Bay Area: US-CA, France: FR) plus a top-level Golden State (US-CA) and, for this fiscal
quarter (Q) and the previous one (P):

territory     quota Q   won in Q (closed in it)            quota P   won in P
West          10000     2000                               20000     6000
Bay Area       4000     3000 (+ 800 lost)                      -        -
Golden State   6000     1000                                   -        -
France         2000      500 (+ 700 lost)                      -        -

West rolled up over Q: won 2000 + 3000 = 5000, its own quota 10000 (Bay Area's is inside it).
"""

import pytest

from analytics import selectors as analytics_selectors
from geo import selectors
from geo.selectors import MapFilters
from tests.geo.helpers import attainment_book, current_and_previous_quarter

pytestmark = pytest.mark.django_db

REGIONS = "/api/v1/analytics/map/regions/"


@pytest.fixture
def quarters(workspace):
    return current_and_previous_quarter(workspace)


@pytest.fixture
def book(workspace):
    return attainment_book(workspace)


def _attainment(view):
    return {row["code"]: row["attainment"] for row in [*view["countries"], *view["states"]]}


def test_the_analytics_figures_the_map_reads_are_rolled_up(workspace, book, quarters):
    figures = analytics_selectors.territory_won_and_quota(workspace=workspace)
    assert figures[book["west"].pk] == (5000.0, 10000.0)  # its 2000 + Bay Area's 3000
    assert figures[book["bay"].pk] == (3000.0, 4000.0)
    assert figures[book["golden"].pk] == (1000.0, 6000.0)
    assert figures[book["france"].pk] == (500.0, 2000.0)
    previous = analytics_selectors.territory_won_and_quota(workspace=workspace, period=quarters[1])
    assert previous[book["west"].pk] == (6000.0, 20000.0)
    assert previous[book["bay"].pk] == (0.0, None)


def test_a_region_sums_won_and_quota_of_its_outermost_territories(workspace, book):
    attainment = _attainment(selectors.map_regions(workspace=workspace, filters=MapFilters()))
    # California: West (Bay Area is inside it) and Golden State: (5000 + 1000) / (10000 + 6000).
    assert attainment["US-CA"] == pytest.approx(0.375)
    assert attainment["US-WA"] == pytest.approx(0.5)  # West alone: 5000 / 10000
    assert attainment["US"] == pytest.approx(0.375)  # the same two cover parts of the US
    assert attainment["FR"] == pytest.approx(0.25)  # 500 / 2000
    assert attainment["US-NY"] is None  # no territory covers New York


def test_the_level_filter_takes_that_level_s_territories(workspace, book):
    level_two = _attainment(selectors.map_regions(workspace=workspace, filters=MapFilters(level=2)))
    assert level_two["US-CA"] == pytest.approx(0.75)  # Bay Area alone: 3000 / 4000
    level_one = _attainment(selectors.map_regions(workspace=workspace, filters=MapFilters(level=1)))
    assert level_one["US-CA"] == pytest.approx(0.375)


def test_a_territory_without_a_quota_adds_nothing(workspace, book, quarters):
    # Over the previous quarter only West has a quota: 6000 / 20000; Golden State (no quota,
    # nothing won) and France (no quota) are left out.
    view = selectors.map_regions(workspace=workspace, filters=MapFilters(period=quarters[1]))
    attainment = _attainment(view)
    assert attainment["US-CA"] == pytest.approx(0.3)
    assert attainment["FR"] is None


def test_the_endpoint_takes_a_period_and_names_a_bad_one(api, workspace, book, quarters):
    previous = quarters[1]
    body = api.get(REGIONS).json()
    assert "attainment" in body["metrics"]
    assert _attainment(body)["US-CA"] == pytest.approx(0.375)
    response = api.get(
        REGIONS,
        {"period_start": previous.start.isoformat(), "period_end": previous.end.isoformat()},
    )
    assert _attainment(response.json())["US-CA"] == pytest.approx(0.3)
    bad = api.get(REGIONS, {"period_start": "2026-13-01", "period_end": "2026-12-31"})
    assert bad.status_code == 400 and "period_start" in bad.json()
    half = api.get(REGIONS, {"period_start": previous.start.isoformat()})
    assert half.status_code == 400 and "period_end" in half.json()
