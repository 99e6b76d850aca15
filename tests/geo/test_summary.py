"""A large book (more than GEO_LIVE_MAX_ACCOUNTS accounts) is read from the summary the
summarize job keeps: the same figures as live, pins at coarse zoom levels from its cells,
and a book change makes it stale until the job runs again."""

from datetime import timedelta

import pytest
from django.utils import timezone

from geo import selectors
from geo.models import MapSnapshot, PinCell
from geo.selectors import BBox, MapFilters
from tests.book.factories import AccountFactory
from tests.geo.helpers import locate, small_book

pytestmark = pytest.mark.django_db

WORLD = BBox(-180, -90, 180, 90)
REGIONS = "/api/v1/analytics/map/regions/"


def _figures(view):
    rows = view["countries"] + view["states"]
    return (
        {(r["code"], r["accounts"], r["white_space"], r["open_pipeline"]) for r in rows},
        view["placement"],
        view["outside_known_regions"],
    )


def test_a_large_book_reads_the_summary_with_the_live_figures(
    workspace, settings, django_capture_on_commit_callbacks
):
    book = small_book(workspace)
    live = selectors.map_regions(workspace=workspace, filters=MapFilters())
    settings.GEO_LIVE_MAX_ACCOUNTS = 3
    locate(workspace, django_capture_on_commit_callbacks)  # then summarizes (8 > 3 accounts)
    assert MapSnapshot.objects.get(workspace=workspace).accounts == 8
    assert PinCell.objects.filter(workspace=workspace, zoom=0).count() == 4
    summary = selectors.map_regions(workspace=workspace, filters=MapFilters())
    assert summary["as_of"] is not None and summary["refreshing"] is False
    live_after = selectors.book_totals(workspace=workspace)
    assert sum(r["located"] for r in live_after.values()) == summary["placement"]["located"]
    assert _figures(summary)[0] == _figures(live)[0]
    assert summary["placement"] == {"accounts": 8, "located": 6, "unresolved": 2, "pending": 0}
    by_owner = selectors.map_regions(
        workspace=workspace, filters=MapFilters(owner_id=book["ada"].pk)
    )
    assert [(r["code"], r["accounts"]) for r in by_owner["countries"]] == [("US", 2)]
    pins = selectors.map_pins(workspace=workspace, bbox=WORLD, zoom=0, filters=MapFilters())
    assert sorted(c["count"] for c in pins["clusters"]) == [1, 1, 2, 2]
    # Only the Americas in view: the summary's cells of the box.
    americas = selectors.map_pins(
        workspace=workspace, bbox=BBox(-130, 20, -60, 50), zoom=0, filters=MapFilters()
    )
    assert americas["accounts"] == 4


def test_a_book_change_makes_the_summary_stale_and_the_api_refreshes_it(
    api, workspace, settings, django_capture_on_commit_callbacks
):
    small_book(workspace)
    settings.GEO_LIVE_MAX_ACCOUNTS = 3
    locate(workspace, django_capture_on_commit_callbacks)
    snapshot = MapSnapshot.objects.get(workspace=workspace)
    assert not selectors.snapshot_is_stale(snapshot)
    # A job that changed the book (here: placing a new account) makes a new summary.
    AccountFactory(workspace=workspace, fields={"country": "US", "postal_code": "10001"})
    locate(workspace, django_capture_on_commit_callbacks)
    assert MapSnapshot.objects.get(workspace=workspace).built_at > snapshot.built_at
    assert api.get(REGIONS).json()["placement"]["accounts"] == 9
    # A summary older than GEO_SNAPSHOT_MAX_AGE is served once more while a new one is made.
    AccountFactory(workspace=workspace, fields={"country": "FR", "city": "Paris"})
    MapSnapshot.objects.filter(workspace=workspace).update(
        built_at=timezone.now() - timedelta(seconds=settings.GEO_SNAPSHOT_MAX_AGE + 1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        stale = api.get(REGIONS).json()
    assert stale["refreshing"] is True and stale["placement"]["accounts"] == 9
    fresh = api.get(REGIONS).json()
    assert fresh["refreshing"] is False
    assert fresh["placement"] == {"accounts": 10, "located": 7, "unresolved": 2, "pending": 1}
