"""The map's reads against a small book whose figures are computed by hand (see
tests/geo/helpers.py): regions, territory coverage, placement counts, pins by bbox and zoom,
one region's territories and orphaned accounts."""

import pytest

from geo import selectors
from geo.models import AccountPlace
from geo.selectors import BBox, MapFilters
from tests.book.factories import AccountFactory
from tests.geo.helpers import locate, small_book

pytestmark = pytest.mark.django_db

WORLD = BBox(-180, -90, 180, 90)


@pytest.fixture
def book(workspace, other_workspace, django_capture_on_commit_callbacks):
    book = small_book(workspace)
    # Another workspace's accounts in the same places must never show.
    AccountFactory(workspace=other_workspace, fields={"country": "US", "postal_code": "94105"})
    locate(workspace, django_capture_on_commit_callbacks)
    locate(other_workspace, django_capture_on_commit_callbacks)
    return book


def _by_code(rows):
    return {row["code"]: row for row in rows}


def test_regions_aggregate_the_book_per_country_and_state(workspace, book):
    view = selectors.map_regions(workspace=workspace, filters=MapFilters())
    countries, states = _by_code(view["countries"]), _by_code(view["states"])
    assert set(countries) == {"US", "FR"}
    us, fr = countries["US"], countries["FR"]
    assert (us["accounts"], us["white_space"], us["open_pipeline"]) == (5, 3, "1750.00")
    assert (fr["accounts"], fr["white_space"], fr["open_pipeline"]) == (2, 1, "0.00")
    assert us["feature_id"] == "840" and fr["feature_id"] == "250"
    ca, ny = states["US-CA"], states["US-NY"]
    assert (ca["accounts"], ca["white_space"], ca["open_pipeline"]) == (3, 1, "1500.00")
    assert (ny["accounts"], ny["white_space"], ny["open_pipeline"]) == (2, 2, "250.00")
    assert ca["feature_id"] == "06"
    # Washington has a territory and no account: drawn with zeros.
    assert states["US-WA"]["accounts"] == 0
    assert view["outside_known_regions"] == {
        "accounts": 1,
        "white_space": 1,
        "open_pipeline": "0.00",
    }
    assert "attainment" in view["metrics"]  # from the analytics app (tests/geo/test_attainment)
    assert us["attainment"] is None  # no quota set


def test_regions_name_the_territories_covering_them(workspace, book):
    view = selectors.map_regions(workspace=workspace, filters=MapFilters())
    names = {t["id"]: t["name"] for t in view["territories"]}
    assert sorted(names.values()) == ["Bay Area", "France", "West"]  # Retail is no region
    states, countries = _by_code(view["states"]), _by_code(view["countries"])
    assert sorted(names[i] for i in states["US-CA"]["territories"]) == ["Bay Area", "West"]
    assert [names[i] for i in states["US-WA"]["territories"]] == ["West"]
    assert states["US-NY"]["territories"] == []
    assert [names[i] for i in countries["FR"]["territories"]] == ["France"]
    west = next(t for t in view["territories"] if t["name"] == "West")
    assert (west["countries"], west["states"], west["level"]) == ([], ["US-CA", "US-WA"], 1)


def test_level_and_owner_filters(workspace, book):
    level_two = selectors.map_regions(workspace=workspace, filters=MapFilters(level=2))
    assert [t["name"] for t in level_two["territories"]] == ["Bay Area"]
    ada = selectors.map_regions(workspace=workspace, filters=MapFilters(owner_id=book["ada"].pk))
    assert [t["name"] for t in ada["territories"]] == ["West"]
    assert [(r["code"], r["accounts"]) for r in ada["countries"]] == [("US", 2)]
    assert _by_code(ada["states"])["US-CA"]["open_pipeline"] == "1500.00"
    assert ada["placement"] == {"accounts": 2, "located": 2, "unresolved": 0, "pending": 0}


def test_unresolvable_accounts_are_counted_not_dropped(workspace, book):
    placement = selectors.map_regions(workspace=workspace, filters=MapFilters())["placement"]
    # Fresno (unknown city) and Mystery (no place at all) cannot be placed.
    assert placement == {"accounts": 8, "located": 6, "unresolved": 2, "pending": 0}
    assert AccountPlace.objects.get(account=book["accounts"]["fresno"]).latitude is None
    AccountFactory(workspace=workspace, fields={"country": "US", "postal_code": "10001"})
    later = selectors.map_regions(workspace=workspace, filters=MapFilters())["placement"]
    assert later == {"accounts": 9, "located": 6, "unresolved": 2, "pending": 1}


def test_pins_cluster_by_zoom_and_split_when_zoomed_in(workspace, book):
    world = selectors.map_pins(workspace=workspace, bbox=WORLD, zoom=0, filters=MapFilters())
    assert world["accounts"] == 6 and not world["capped"]
    counts = sorted(c["count"] for c in world["clusters"])
    # 11.25° cells: SF (-122.4°, 37.8°) and LA (-118.2°, 34.1°) share cell (-11, 3); Paris
    # and Lyon share (0, 4); Buffalo (-78.9°) is in column -8 and Albany (-73.8°) in -7.
    assert counts == [1, 1, 2, 2]
    california = BBox(-125, 32, -114, 42)
    near = selectors.map_pins(workspace=workspace, bbox=california, zoom=4, filters=MapFilters())
    assert sorted(c["account"]["name"] for c in near["clusters"]) == ["LA Co", "SF Co"]
    assert all(c["count"] == 1 for c in near["clusters"])
    europe = selectors.map_pins(
        workspace=workspace, bbox=BBox(-10, 35, 30, 60), zoom=6, filters=MapFilters()
    )
    assert sorted(c["account"]["name"] for c in europe["clusters"]) == ["Lyon SA", "Paris SA"]


def test_pins_across_the_antimeridian_and_by_owner(workspace, book):
    pacific = BBox(170, -60, -100, 60)  # west of the date line to the US west coast
    across = selectors.map_pins(workspace=workspace, bbox=pacific, zoom=3, filters=MapFilters())
    assert across["accounts"] == 2  # SF and LA
    bob = selectors.map_pins(
        workspace=workspace, bbox=WORLD, zoom=0, filters=MapFilters(owner_id=book["bob"].pk)
    )
    assert [c["account"]["name"] for c in bob["clusters"]] == ["Paris SA"]


def test_pins_are_two_statements_whatever_the_book(workspace, book, django_assert_num_queries):
    with django_assert_num_queries(2):  # the clusters, then the names of lone accounts
        selectors.map_pins(workspace=workspace, bbox=WORLD, zoom=12, filters=MapFilters())


def test_pins_are_capped_to_the_most_populous_cells(workspace, book, monkeypatch):
    monkeypatch.setattr(selectors, "MAX_CLUSTERS", 2)
    pins = selectors.map_pins(workspace=workspace, bbox=WORLD, zoom=10, filters=MapFilters())
    assert pins["capped"] and len(pins["clusters"]) == 2


def test_a_region_lists_its_territories_and_orphaned_accounts(workspace, book):
    ca = selectors.map_region(workspace=workspace, code="US-CA", filters=MapFilters())
    assert [t["name"] for t in ca["territories"]] == ["West", "Bay Area"]
    assert (ca["orphaned_count"], [a["name"] for a in ca["orphaned_accounts"]]) == (
        1,
        ["Fresno Co"],
    )
    ny = selectors.map_region(workspace=workspace, code="US-NY", filters=MapFilters())
    assert ny["territories"] == []
    assert [a["name"] for a in ny["orphaned_accounts"]] == ["Albany Co", "Buffalo Co"]
    us = selectors.map_region(workspace=workspace, code="US", filters=MapFilters())
    assert us["orphaned_count"] == 3
    fr = selectors.map_region(workspace=workspace, code="FR", filters=MapFilters(level=1))
    assert ([t["name"] for t in fr["territories"]], fr["orphaned_count"]) == (["France"], 1)
    assert selectors.map_region(workspace=workspace, code="XX", filters=MapFilters()) is None


def test_a_changed_address_is_placed_again_and_a_rerun_writes_nothing(
    workspace, book, django_capture_on_commit_callbacks
):
    rerun = locate(workspace, django_capture_on_commit_callbacks)
    assert rerun.status == "succeeded" and rerun.result.get("placed", 0) == 0
    fresno = book["accounts"]["fresno"]
    fresno.fields = {"country": "US", "state": "CA", "city": "Fresno"}
    fresno.save()
    again = locate(workspace, django_capture_on_commit_callbacks)
    assert again.result["placed"] == 1 and again.result["located"] == 1
    place = AccountPlace.objects.get(account=fresno)
    assert (round(place.latitude), round(place.longitude), place.precision) == (37, -120, "city")
