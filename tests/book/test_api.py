"""The book's read API: accounts with API.md's filters and a detail with history,
opportunities, coverage of the active plan, and the on-demand re-evaluation."""

import pytest

from book import services
from jobs.services import job_run_inline
from territories.models import TerritoryPlan
from territories.services import plan_touch
from tests.book.factories import AccountFactory, OpportunityFactory
from tests.book.helpers import reevaluate, us_territory
from tests.factories import MemberFactory, TerritoryFactory, TerritorySlotFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(workspace, django_capture_on_commit_callbacks):
    territory, reps = us_territory(workspace, reps=2)
    overlay = MemberFactory(workspace=workspace, name="Sol Overlay")
    TerritorySlotFactory(territory=territory, member=overlay, role="overlay")
    us = [
        AccountFactory(workspace=workspace, name=f"US {i}", domain=f"us{i}.com") for i in range(3)
    ]
    fr = AccountFactory(
        workspace=workspace,
        name="Paris SA",
        fields={"country": "FR", "industry": "Retail", "employees": 300},
    )
    OpportunityFactory(account=fr, amount=700, is_closed=False)
    OpportunityFactory(account=fr, amount=900, is_closed=True)
    reevaluate(workspace, django_capture_on_commit_callbacks)
    return {"territory": territory, "reps": reps, "us": us, "fr": fr, "overlay": overlay}


def test_accounts_list_shape_and_filters(api, book):
    territory, reps = book["territory"], book["reps"]
    listed = api.get("/api/v1/accounts/").json()
    assert listed["count"] == 4
    row = next(a for a in listed["results"] if a["name"] == "US 0")
    assert row["territory"] == {"id": territory.pk, "name": "US"}
    assert row["owner"]["id"] in {r.pk for r in reps}
    assert row["status"] == "assigned"
    assert row["overlays"] == [{"id": book["overlay"].pk, "name": "Sol Overlay", "until": None}]
    assert set(row) >= {"crm_provider", "crm_id", "domain", "fields", "crm_owner_id", "assigned_at"}

    def names(**params):
        return sorted(a["name"] for a in api.get("/api/v1/accounts/", params).json()["results"])

    assert names(status="orphaned") == ["Paris SA"]
    assert names(territory=territory.pk) == ["US 0", "US 1", "US 2"]
    assert names(country="fr") == ["Paris SA"]
    assert names(search="us1.com") == ["US 1"]
    owner = row["owner"]["id"]
    assert "US 0" in names(owner=owner)
    assert api.get("/api/v1/accounts/", {"status": "nope"}).status_code == 400


def test_account_detail_has_its_history(api, book):
    account = book["us"][0]
    shown = api.get(f"/api/v1/accounts/{account.pk}/").json()
    [entry] = shown["history"]
    assert entry["state"] == "current"
    assert entry["owner"] == shown["owner"]
    assert entry["territory"] == {"id": book["territory"].pk, "name": "US"}
    assert entry["actor_label"].startswith("job ")
    assert entry["decision"][0]["step"] == "territory"


def test_the_book_is_read_only(api, book):
    account = book["us"][0]
    assert (
        api.patch(f"/api/v1/accounts/{account.pk}/", {"name": "x"}, format="json").status_code
        == 405
    )
    assert api.post("/api/v1/accounts/", {"name": "x"}, format="json").status_code == 405


def test_coverage(api, workspace, book):
    mismatched = book["us"][1]
    mismatched.refresh_from_db()
    mismatched.crm_owner_id = "005SOMEONE"
    mismatched.save()
    second = TerritoryFactory(
        workspace=workspace,
        name="Americas",
        rule={"field": "country", "op": "in", "value": ["US", "CA"]},
    )
    AccountFactory(workspace=workspace, name="Lonely", fields={"country": "DE", "state": "BE"})
    vacant = TerritoryFactory(
        workspace=workspace,
        name="Germany",
        priority=9,
        rule={"field": "country", "op": "eq", "value": "DE"},
    )

    plan_touch(plan_id=vacant.plan_id)  # factories bypass the services that bump it
    job = services.book_reevaluate_start(workspace=workspace, actor_label="tests")
    job_run_inline(job_id=job.pk)

    report = api.get("/api/v1/coverage/").json()
    assert report["accounts"] == 5
    assert report["orphaned"] == 1
    assert report["vacant_territories"] == [{"id": vacant.pk, "name": "Germany", "accounts": 1}]
    assert report["conflicts"] == 3
    assert report["conflict_pairs"] == [
        {
            "territory": {"id": book["territory"].pk, "name": "US"},
            "runner_up": {"id": second.pk, "name": "Americas"},
            "accounts": 3,
        }
    ]
    assert report["owner_mismatches"] == 1
    assert report["white_space"] == [
        {
            "country": "FR",
            "state": "",
            "industry": "Retail",
            "size_band": "200-999",
            "accounts": 1,
            "open_pipeline": "700.00",
        }
    ]


def test_reevaluate_endpoint(api, make_client, other_api, workspace, book):
    plan = book["territory"].plan
    reader = make_client(workspace, scopes="read")
    assert reader.post(f"/api/v1/territory-plans/{plan.pk}/reevaluate/").status_code == 403
    assert other_api.post(f"/api/v1/territory-plans/{plan.pk}/reevaluate/").status_code == 404
    draft = TerritoryPlan.objects.create(workspace=workspace, name="Draft", status="draft")
    refused = api.post(f"/api/v1/territory-plans/{draft.pk}/reevaluate/")
    assert refused.status_code == 409

    accepted = api.post(f"/api/v1/territory-plans/{plan.pk}/reevaluate/")
    assert accepted.status_code == 202
    assert accepted.json()["kind"] == "reevaluate"
    assert accepted.json()["status"] == "queued"


def test_workspace_setting_for_account_ownership(api, workspace):
    assert api.get("/api/v1/workspace/").json()["account_ownership_writeback"] is False
    response = api.patch("/api/v1/workspace/", {"account_ownership_writeback": True}, format="json")
    assert response.status_code == 200
    workspace.refresh_from_db()
    assert workspace.account_ownership_writeback is True
