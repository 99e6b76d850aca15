"""The analytics endpoints refuse bad queries with a 400 naming the parameter, and never
show another workspace's figures."""

import pytest

from tests.analytics.conftest import Q1
from tests.factories import TerritoryPlanFactory

pytestmark = pytest.mark.django_db
URLS = ("/api/v1/analytics/territories/", "/api/v1/analytics/members/")


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize(
    "params, field",
    [
        ({"period_start": "2026-01-01"}, "period_end"),
        ({"period_start": "2026-02-30", "period_end": "2026-03-31"}, "period_start"),
        ({"period_start": "2026-03-01", "period_end": "2026-02-01"}, "period_end"),
        ({"period_start": "2020-01-01", "period_end": "2026-02-01"}, "period_end"),
        ({"period_start": "yesterday", "period_end": "2026-02-01"}, "period_start"),
        ({"period_start": "9999-01-01", "period_end": "9999-12-31"}, "period_start"),
        ({"kind": "planet"}, "kind"),
        ({"level": "-1"}, "level"),
        ({"level": "²"}, "level"),
        ({"plan": "abc"}, "plan"),
        ({"format": "xml"}, "format"),
    ],
)
def test_a_bad_query_is_a_400_naming_the_parameter(api, url, params, field):
    response = api.get(url, params)
    assert response.status_code == 400, response.content
    assert field in response.json()


@pytest.mark.parametrize("url", URLS)
def test_another_workspaces_plan_is_a_400_and_its_figures_never_shown(
    api, other_api, other_workspace, book, url
):
    theirs = TerritoryPlanFactory(workspace=other_workspace)
    response = api.get(url, {**Q1, "plan": theirs.pk})
    assert response.status_code == 400 and "plan" in response.json()
    mine = TerritoryPlanFactory(workspace=book.west.workspace)
    assert other_api.get(url, {**Q1, "plan": mine.pk}).status_code == 400
    rows = other_api.get(url, Q1).json()["results"]
    assert all(row.get("won_amount", 0) == 0 for row in rows)
    names = {(row.get("territory") or row.get("member"))["name"] for row in rows}
    assert not names & {"West", "CA", "NV", "East", "Ada", "Ben", "Sol", "Nia"}


@pytest.mark.parametrize("url", URLS)
def test_a_key_without_read_scope_is_refused(make_client, workspace, url):
    assert make_client(workspace, scopes="allocate").get(url).status_code == 403


def test_a_viewer_reads_analytics(user_client, workspace, book):
    response = user_client(workspace, role="viewer").get(URLS[0], Q1)
    assert response.status_code == 200
    assert len(response.json()["results"]) == 4


@pytest.mark.parametrize("url", URLS)
def test_a_bad_csv_query_answers_its_error_as_json(api, url):
    response = api.get(url, {"format": "csv", "period_end": "2000-01-01"})
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert "period_start" in response.json()
