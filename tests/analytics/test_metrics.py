"""Every figure of `/analytics/territories/` and `/analytics/members/` against the book of
`conftest.py`, computed by hand (the arithmetic is spelled out next to each expectation)."""

import csv
import io
from datetime import date, timedelta

import pytest
from django.utils import timezone

from tests.analytics.conftest import Q1

pytestmark = pytest.mark.django_db


def _by_territory(response):
    assert response.status_code == 200, response.content
    return {row["territory"]["name"]: row for row in response.json()["results"]}


def _by_member(response):
    assert response.status_code == 200, response.content
    return {row["member"]["name"]: row for row in response.json()["results"]}


def test_a_leaf_territory_has_every_figure(api, book):
    ca = _by_territory(api.get("/api/v1/analytics/territories/", Q1))["CA"]
    assert ca["territory"] == {
        "id": book.ca.pk, "name": "CA", "kind": "geographic", "parent": book.west.pk, "level": 1,
    }  # fmt: skip
    assert ca["quota"] == 8000.0
    assert ca["won_amount"] == 4000.0  # d1 + d2; d6 closed before the quarter
    assert ca["attainment"] == 50.0  # 4000 / 8000
    assert ca["win_rate"] == 66.7  # 2 won of 3 closed (d3 lost)
    assert ca["avg_deal_size"] == 2000.0  # 4000 / 2
    assert ca["sales_cycle_days"] == 20.0  # (10 + 30) / 2
    assert ca["open_pipeline"] == 2000.0  # d4; d5 expected after the quarter
    assert ca["pipeline_coverage"] == 0.5  # 2000 / (8000 − 4000)
    assert ca["velocity"] == 66.67  # 1 open × 2/3 × 2000 / 20 days
    assert ca["accounts"] == 1
    assert ca["allocations"] == 2  # the third entry is in April
    assert ca["time_to_accept_p50_minutes"] is None  # allocations carry no acceptance yet
    assert (ca["won_deals"], ca["closed_deals"], ca["open_deals"]) == (2, 3, 1)


def test_a_deal_counts_for_the_territory_it_closed_in(api, book):
    rows = _by_territory(api.get("/api/v1/analytics/territories/", Q1))
    nv, east = rows["NV"], rows["East"]
    assert nv["won_amount"] == 6000.0  # d7 + d9: d9's account has since moved to East
    assert nv["quota"] == 6000.0  # a quarter (3 of 12 months) of 24000
    assert nv["attainment"] == 100.0
    assert nv["win_rate"] == 100.0
    assert nv["avg_deal_size"] == 3000.0
    assert nv["sales_cycle_days"] == 15.0  # (20 + 10) / 2
    assert nv["pipeline_coverage"] is None  # nothing left to win
    assert nv["velocity"] == 200.0  # 1 open × 1 × 3000 / 15
    assert east["won_amount"] == 0.0
    assert east["open_pipeline"] == 500.0  # d10: open deals follow the account's territory now
    assert east["accounts"] == 2
    assert [east[name] for name in ("quota", "attainment", "win_rate", "avg_deal_size")] == [
        None, None, None, None,
    ]  # fmt: skip
    assert east["velocity"] is None


def test_a_parent_rolls_up_its_children(api, book):
    west = _by_territory(api.get("/api/v1/analytics/territories/", Q1))["West"]
    assert west["quota"] == 14000.0  # no quota of its own: CA 8000 + NV 6000
    assert west["won_amount"] == 10000.0
    assert west["attainment"] == 71.4  # 10000 / 14000
    assert west["win_rate"] == 80.0  # 4 won of 5 closed
    assert west["avg_deal_size"] == 2500.0
    assert west["sales_cycle_days"] == 17.5  # (10 + 30 + 20 + 10) / 4
    assert west["open_pipeline"] == 3000.0
    assert west["pipeline_coverage"] == 0.75  # 3000 / (14000 − 10000)
    assert west["velocity"] == 228.57  # 2 open × 0.8 × 2500 / 17.5
    assert west["accounts"] == 2
    assert west["allocations"] == 2
    # Sol's 20 % overlay split on West: what this territory credits its overlays.
    assert (west["overlay_credit_won"], west["overlay_credit_pipeline"]) == (2000.0, 600.0)


def test_a_parent_quota_of_its_own_wins_over_its_childrens(api, book):
    from tests.analytics.factories import QuotaFactory

    QuotaFactory(
        workspace=book.west.workspace, territory=book.west,
        period_start="2026-01-01", period_end="2026-03-31", amount=20000,
    )  # fmt: skip
    west = _by_territory(api.get("/api/v1/analytics/territories/", Q1))["West"]
    assert (west["quota"], west["attainment"]) == (20000.0, 50.0)


def test_rows_narrow_to_a_kind_or_a_level_after_the_roll_up(api, book):
    top = _by_territory(api.get("/api/v1/analytics/territories/", {**Q1, "level": 0}))
    assert set(top) == {"West", "East"}
    assert top["West"]["won_amount"] == 10000.0
    industry = _by_territory(api.get("/api/v1/analytics/territories/", {**Q1, "kind": "industry"}))
    assert set(industry) == {"East"}


def test_reps_are_credited_their_deals_and_their_overlay_split(api, book):
    rows = _by_member(api.get("/api/v1/analytics/members/", Q1))
    ada, ben, sol = rows["Ada"], rows["Ben"], rows["Sol"]
    assert (ada["quota"], ada["won_amount"], ada["attainment"]) == (10000.0, 4000.0, 40.0)
    assert ada["pipeline_coverage"] == 0.33  # 2000 / (10000 − 4000)
    assert ada["allocations"] == 2
    assert ben["won_amount"] == 6000.0  # d7 + d9: the owner when the deal closed
    assert ben["open_pipeline"] == 1500.0  # d8 + d10
    assert ben["velocity"] == 400.0  # 2 open × 1 × 3000 / 15
    assert ben["accounts"] == 3
    # Sol owns nothing; 20 % of West's (its subtree's) won 10000 and pipeline 3000.
    assert (sol["won_amount"], sol["open_pipeline"]) == (2000.0, 600.0)
    assert (sol["overlay_credit_won"], sol["overlay_credit_pipeline"]) == (2000.0, 600.0)
    assert (sol["won_deals"], sol["win_rate"], sol["avg_deal_size"]) == (0, None, None)
    # The owners' revenue still totals 100 %: Ada 4000 + Ben 6000 = West's 10000.
    assert ada["won_amount"] + ben["won_amount"] == 10000.0


def test_a_new_rep_carries_the_ramped_share_of_their_quota(api, book):
    nia = _by_member(api.get("/api/v1/analytics/members/", Q1))["Nia"]
    # 9000 over Jan–Mar = 3000 a month; ramp from 10 Feb at [50 %]: Jan 0, Feb 50 %, Mar 100 %.
    assert nia["quota"] == 4500.0
    assert nia["attainment"] == 0.0
    march = _by_member(
        api.get(
            "/api/v1/analytics/members/", {"period_start": "2026-03-01", "period_end": "2026-03-31"}
        )
    )["Nia"]
    assert march["quota"] == 3000.0


def test_members_narrow_to_those_holding_a_slot_of_a_kind(api, book):
    rows = _by_member(api.get("/api/v1/analytics/members/", {**Q1, "kind": "industry"}))
    assert set(rows) == {"Ben"}


def test_the_csv_export_carries_the_same_figures(api, book):
    response = api.get("/api/v1/analytics/territories/", {**Q1, "format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert list(table[0])[:4] == ["period_start", "period_end", "territory_id", "territory"]
    rows = {row["territory"]: row for row in table}
    assert rows["West"]["period_start"] == "2026-01-01"
    assert rows["West"]["won_amount"] == "10000.0"
    assert rows["West"]["overlay_credit_won"] == "2000.0"
    assert rows["East"]["attainment"] == ""
    members = api.get("/api/v1/analytics/members/", {**Q1, "format": "csv"})
    text = b"".join(members.streaming_content).decode()
    assert "Sol" in text and ",2000.0," in text


def test_without_a_period_the_current_fiscal_quarter_is_reported(api, book, workspace):
    workspace.fiscal_year_start_month = 2
    workspace.save()
    body = api.get("/api/v1/analytics/territories/").json()
    start = date.fromisoformat(body["period"]["start"])
    end = date.fromisoformat(body["period"]["end"])
    assert start.month in (2, 5, 8, 11) and start.day == 1  # quarters of a February year
    assert start <= timezone.localdate() <= end
    assert (end + timedelta(days=1)).month == (start.month + 2) % 12 + 1
    assert body["plan"] == book.west.plan_id
