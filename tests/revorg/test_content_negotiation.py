"""The API answers JSON whatever the Accept header says, and an odd header never turns a
saved write into an error the client would retry."""

import pytest

from allocation.models import Allocation
from tests.factories import TerritoryFactory, TerritorySlotFactory

ODD_ACCEPT_HEADERS = [
    "text/html",
    "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "application/xml",
    "*/*;q=0",
    "application/json;q=0",
    "garbage",
    "",
    ";;;,,,/",
]


@pytest.fixture
def assignable(workspace):
    territory = TerritoryFactory(workspace=workspace)
    TerritorySlotFactory(territory=territory)
    return territory


@pytest.mark.parametrize("accept", ODD_ACCEPT_HEADERS)
def test_allocate_with_any_accept_header_answers_json_and_allocates_once(api, assignable, accept):
    response = api.post(
        "/api/v1/allocations/",
        {"record": {"type": "lead", "id": "00Q1"}},
        format="json",
        HTTP_ACCEPT=accept,
    )
    assert response.status_code == 201, response.content[:300]
    assert response["Content-Type"] == "application/json"
    assert response.json()["status"] == "assigned"
    assert Allocation.objects.count() == 1


@pytest.mark.parametrize("accept", ODD_ACCEPT_HEADERS)
def test_reads_and_errors_are_json_for_any_accept_header(api, workspace, accept):
    listing = api.get("/api/v1/members/", HTTP_ACCEPT=accept)
    assert listing.status_code == 200
    assert listing["Content-Type"] == "application/json"
    assert listing.json()["results"] == []
    refused = api.post("/api/v1/allocations/", {"record": {}}, format="json", HTTP_ACCEPT=accept)
    assert refused.status_code == 400
    assert refused["Content-Type"] == "application/json"
    assert "record" in refused.json() or "record.type" in refused.json()
    assert not Allocation.objects.exists()


def test_browser_session_gets_json_too(user_client, workspace):
    client = user_client(workspace, role="viewer")
    response = client.get("/api/v1/members/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"


def test_schema_format_override_still_picks_json(api):
    response = api.get("/api/schema/?format=json", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert response.json()["info"]["title"] == "revorg API"
