"""The comparison page and the dashboard's cards, server-side: figures, filters, roles, bad
query values (400 naming the field), another workspace's plan."""

import pytest

from tests.analytics.conftest import Q1
from tests.factories import TerritoryPlanFactory

pytestmark = pytest.mark.django_db
URL = "/performance/"


def test_the_page_compares_picked_territories_and_links_the_csv(user_client, workspace, book):
    client = user_client(workspace, role="viewer")
    response = client.get(URL, {**Q1, "territory": [book.ca.pk, book.nv.pk]})
    assert response.status_code == 200
    body = response.content.decode()
    table = body.split('data-testid="compare-table"')[1].split("</table>")[0]
    assert "CA" in table and "NV" in table and "East" not in table
    assert "50.0 %" in table  # CA's attainment
    assert 'id="compare-data"' in body  # the charts' data, as json_script
    assert "npm/chart.js/dist/chart.umd.min.js" in body
    assert "/api/v1/analytics/territories/?period_start=2026-01-01" in body
    csv = client.get(
        f"/api/v1/analytics/territories/?{'&'.join(f'{k}={v}' for k, v in Q1.items())}&format=csv"
    )
    assert csv.status_code == 200 and b"".join(csv.streaming_content).count(b"\n") == 5


def test_reps_and_a_hierarchy_level(user_client, workspace, book):
    client = user_client(workspace, role="viewer")
    reps = client.get(URL, {**Q1, "view": "members"}).content.decode()
    assert "Sol" in reps and "Nia" in reps
    top = client.get(URL, {**Q1, "level": "0"}).content.decode()
    table = top.split('data-testid="compare-table"')[1]
    assert "West" in table and "CA" not in table


@pytest.mark.parametrize(
    "params, field",
    [
        ({"period_start": "2026-13-01", "period_end": "2026-12-31"}, "period_start"),
        ({"view": "planets"}, "view"),
        ({"kind": "planet"}, "kind"),
        ({"level": "x"}, "level"),
        ({"territory": "x"}, "territory"),
        ({"plan": "99999999999999999999999"}, "plan"),
    ],
)
def test_a_bad_query_value_is_a_400_naming_it(user_client, workspace, params, field):
    response = user_client(workspace, role="viewer").get(URL, params)
    assert response.status_code == 400
    assert field.replace("_", " ").lower() in response.content.decode().lower()


def test_another_workspaces_plan_is_refused(user_client, workspace, other_workspace):
    theirs = TerritoryPlanFactory(workspace=other_workspace)
    response = user_client(workspace, role="viewer").get(URL, {"plan": theirs.pk})
    assert response.status_code == 400


def test_anonymous_visitors_log_in_first(client):
    response = client.get(URL)
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_the_dashboard_shows_attainment_and_balance(user_client, workspace, book):
    body = user_client(workspace, role="viewer").get("/").content.decode()
    assert 'data-testid="attainment"' in body
    # Primaries: Ada owns 1 account, Ben 3 → mean 2, σ 1, CV 0.5 → 100 × (1 − 0.5).
    assert 'data-testid="balance">50.0<' in body
