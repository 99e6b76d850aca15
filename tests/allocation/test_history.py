"""GET /api/v1/allocations/: newest first, the filters of API.md, cursor pages, per-key
throttling."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from allocation.models import Allocation
from revorg.throttling import ApiKeyRateThrottle
from tests.allocation.factories import AllocationFactory
from tests.factories import MemberFactory, TerritoryFactory

URL = "/api/v1/allocations/"


def ids(response):
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def made_at(allocation, when):
    Allocation.objects.filter(pk=allocation.pk).update(created_at=when)
    return allocation


@pytest.fixture
def history(workspace):
    """Five rows an hour apart, oldest first, differing in every filtered field."""
    now = timezone.now()
    ann, bob = MemberFactory.create_batch(2, workspace=workspace)
    territory = TerritoryFactory(workspace=workspace)
    rows = [
        AllocationFactory(workspace=workspace, owner=ann, territory=territory),
        AllocationFactory(workspace=workspace, owner=bob, record_type="account"),
        AllocationFactory(workspace=workspace, owner=None, status="unassigned"),
        AllocationFactory(workspace=workspace, owner=ann, play_run_id="run-7"),
        AllocationFactory(workspace=workspace, owner=bob, record_id="00Q-fixed"),
    ]
    for hours_ago, row in zip(range(5, 0, -1), rows, strict=True):
        made_at(row, now - timedelta(hours=hours_ago))
    return {"rows": rows, "ann": ann, "bob": bob, "territory": territory, "now": now}


def test_history_is_newest_first(api, history):
    assert ids(api.get(URL)) == [row.pk for row in reversed(history["rows"])]


def test_every_filter_of_the_contract(api, history):
    rows, now = history["rows"], history["now"]
    cases = {
        "member": ({"member": history["ann"].pk}, [rows[3], rows[0]]),
        "territory": ({"territory": history["territory"].pk}, [rows[0]]),
        "status": ({"status": "unassigned"}, [rows[2]]),
        "record_type": ({"record_type": "account"}, [rows[1]]),
        "record_id": ({"record_id": "00Q-fixed"}, [rows[4]]),
        "play_run_id": ({"play_run_id": "run-7"}, [rows[3]]),
        "created window": (
            {
                "created_after": (now - timedelta(hours=4, minutes=30)).isoformat(),
                "created_before": (now - timedelta(hours=1, minutes=30)).isoformat(),
            },
            [rows[3], rows[2], rows[1]],
        ),
    }
    for name, (params, expected) in cases.items():
        assert ids(api.get(URL, params)) == [row.pk for row in expected], name


def test_a_bad_filter_value_is_400_naming_the_field(api, history):
    response = api.get(URL, {"created_after": "yesterday-ish"})
    assert response.status_code == 400
    assert "created_after" in response.json()


def test_cursor_pages_walk_the_whole_history_once_newest_first(api, workspace, history):
    AllocationFactory.create_batch(6, workspace=workspace)
    expected = list(
        Allocation.objects.filter(workspace=workspace)
        .order_by("-created_at", "-id")
        .values_list("pk", flat=True)
    )
    seen, response = [], api.get(URL, {"page_size": 3})
    while True:
        body = response.json()
        assert set(body) >= {"next", "previous", "results"} and "count" not in body
        seen += [row["id"] for row in body["results"]]
        if body["next"] is None:
            break
        response = api.get(body["next"])
    assert seen == expected and len(seen) == 11


def test_another_workspaces_history_is_invisible(api, other_api, history):
    assert ids(other_api.get(URL)) == []
    assert other_api.get(f"{URL}{history['rows'][0].pk}/").status_code == 404


@pytest.fixture
def three_per_minute(monkeypatch):
    monkeypatch.setattr(ApiKeyRateThrottle, "THROTTLE_RATES", {"api_key": "3/min"})
    cache.clear()
    yield
    cache.clear()


def test_each_api_key_has_its_own_request_budget(make_client, workspace, three_per_minute):
    first, second = make_client(workspace), make_client(workspace)
    assert [first.get(URL).status_code for _ in range(3)] == [200, 200, 200]
    refused = first.get(URL)
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert second.get(URL).status_code == 200
