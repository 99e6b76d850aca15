"""Simulation and rebalancing over HTTP (the job run inline at the commit): who may start
them, another workspace's plan, bad input; the rebalancing suggestions of a small book
checked by hand, and accepting them."""

import threading

import pytest
from django.db import connections
from rest_framework.test import APIClient

from book.models import Account
from territories.models import AccountLock, Territory
from tests.book.factories import AccountFactory, OpportunityFactory
from tests.factories import (
    MemberFactory,
    TerritoryFactory,
    TerritorySlotFactory,
    active_plan,
    api_key_for,
)
from tests.planning.helpers import book_snapshot, simulate_inline, small_book, states

PLANS = "/api/v1/territory-plans/"


@pytest.fixture(autouse=True)
def jobs_inline(settings):
    settings.JOBS_EAGER_MODE = "inline"


def test_simulate_with_records_stays_a_quick_count(api, workspace):
    book = small_book(workspace)
    response = api.post(
        f"{PLANS}{book.draft.pk}/simulate/",
        {"records": [{"state": "MA"}, {"state": "TX"}, {"state": "ZZ"}]},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["unmatched"] == 1
    assert {t["name"] for t in response.json()["territories"]} == {"West", "South"}


def test_a_read_only_key_or_a_viewer_may_count_records_but_not_simulate_the_book(
    make_client, user_client, workspace
):
    book = small_book(workspace)
    url = f"{PLANS}{book.draft.pk}/simulate/"
    for client in (make_client(workspace, scopes="read"), user_client(workspace, role="viewer")):
        assert client.post(url, {}, format="json").status_code == 403
        assert client.post(url, {"records": [{"state": "MA"}]}, format="json").status_code == 200
    assert user_client(workspace, role="manager").post(url, {}, format="json").status_code == 202


def test_another_workspaces_plan_and_job_are_not_found(
    api, other_api, workspace, django_capture_on_commit_callbacks
):
    book = small_book(workspace)
    job = simulate_inline(book.draft, django_capture_on_commit_callbacks)
    assert other_api.post(f"{PLANS}{book.draft.pk}/simulate/", {}, format="json").status_code == 404
    assert other_api.get(f"/api/v1/jobs/{job.pk}/moves.csv").status_code == 404
    assert other_api.get(f"{PLANS}{book.plan.pk}/rebalance/").status_code == 404
    accept = f"{PLANS}{book.plan.pk}/rebalance/accept/"
    assert other_api.post(accept, {"suggestions": ["x"]}, format="json").status_code == 404
    assert api.get(f"/api/v1/jobs/{job.pk}/moves.csv").status_code == 200


def test_moves_of_a_job_that_is_not_a_finished_simulation_are_a_409(api, workspace):
    from jobs.models import Job

    job = Job.objects.create(workspace=workspace, kind="reevaluate", handler="book.reevaluate")
    response = api.get(f"/api/v1/jobs/{job.pk}/moves.csv")
    assert response.status_code == 409 and "finished simulation" in str(response.json())


@pytest.mark.parametrize(
    "body, field",
    [
        ({"records": []}, "records"),
        ({"records": "all"}, "records"),
        ({"records": [{"employees": 10**400}]}, "records"),
    ],
)
def test_bad_simulate_input_is_a_400_naming_the_field(api, workspace, body, field):
    book = small_book(workspace)
    response = api.post(f"{PLANS}{book.draft.pk}/simulate/", body, format="json")
    assert response.status_code == 400 and field in response.json()


def test_the_inline_simulation_writes_nothing_and_matches_the_worker_one(
    workspace, django_capture_on_commit_callbacks
):
    book = small_book(workspace)
    before = book_snapshot(workspace)
    job = simulate_inline(book.draft, django_capture_on_commit_callbacks)
    assert job.status == "succeeded", job.errors
    assert job.result["moves"] == 2
    assert book_snapshot(workspace) == before


def _siblings(workspace, extra=()):
    """US (no reps) with East (Ann: 6 accounts, NY) and West (Bob: 2 accounts, CA), and any
    `extra` siblings as (name, state, accounts)."""
    plan = active_plan(workspace)
    us = TerritoryFactory(workspace=workspace, plan=plan, name="US")
    ann, bob = (
        MemberFactory(workspace=workspace, name="Ann"),
        MemberFactory(workspace=workspace, name="Bob"),
    )
    east = TerritoryFactory(
        workspace=workspace, plan=plan, name="East", parent=us, rule=states("NY")
    )
    west = TerritoryFactory(
        workspace=workspace, plan=plan, name="West", parent=us, rule=states("CA")
    )
    TerritorySlotFactory(territory=east, member=ann)
    TerritorySlotFactory(territory=west, member=bob)
    accounts = [
        AccountFactory(
            workspace=workspace,
            fields={"state": "NY"},
            territory=east,
            owner=ann,
            status="assigned",
        )
        for _ in range(6)
    ] + [
        AccountFactory(
            workspace=workspace,
            fields={"state": "CA"},
            territory=west,
            owner=bob,
            status="assigned",
        )
        for _ in range(2)
    ]
    OpportunityFactory(account=accounts[0], amount=300)
    return plan, east, west, ann, bob, accounts


def test_rebalancing_suggests_moving_the_heaviest_reps_accounts_to_the_sibling(api, workspace):
    plan, _east, _west, _ann, _bob, accounts = _siblings(workspace)
    response = api.get(f"{PLANS}{plan.pk}/rebalance/")
    assert response.status_code == 200, response.content
    body = response.json()
    # Ann 6, Bob 2: mean 4, stdev 2, CV 0.5 → 50. Moving (6 − 2) / 2 = 2 of Ann's accounts
    # to West (Bob its only primary) leaves 4 and 4 → 100.
    assert body["source"] == "book"
    assert len(body["moves"]) == 1
    move = body["moves"][0]
    assert (move["from_territory"]["name"], move["from_member"]["name"]) == ("East", "Ann")
    assert move["to_territory"]["name"] == "West"
    assert [m["name"] for m in move["to_members"]] == ["Bob"]
    assert move["accounts"] == [accounts[0].pk, accounts[1].pk]
    assert move["open_pipeline"] == "300.00"
    assert move["effect"]["accounts"] == {"before": 50.0, "after": 100.0}
    # Pipeline: Ann 300, Bob 0 → CV 1 → 0; after the move Ann 0, Bob 300 → still 0.
    assert move["effect"]["pipeline"] == {"before": 0.0, "after": 0.0}
    assert body["balance"]["accounts"] == {"before": 50.0, "after": 100.0}
    assert body["splits"] == [] and body["merges"] == []


def test_a_territory_far_above_the_median_is_split_and_one_far_below_merged(api, workspace):
    plan = active_plan(workspace)
    parent = TerritoryFactory(workspace=workspace, plan=plan, name="US")
    loads = {"Big": ["NY"] * 5 + ["MA"] * 3, "Mid": ["CA"] * 2, "Small": ["TX"]}
    for name, codes in loads.items():
        territory = TerritoryFactory(workspace=workspace, plan=plan, name=name, parent=parent)
        rep = MemberFactory(workspace=workspace, name=f"Rep {name}")
        TerritorySlotFactory(territory=territory, member=rep)
        for code in codes:
            AccountFactory(workspace=workspace, fields={"country": "US", "state": code},
                           territory=territory, owner=rep, status="assigned")  # fmt: skip
    body = api.get(f"{PLANS}{plan.pk}/rebalance/").json()
    # Accounts per rep 8, 2, 1: median 2. 8 ≥ 2 × 2 → split; 1 ≤ 2 / 2 → merge.
    [split] = body["splits"]
    assert split["territory"]["name"] == "Big" and split["accounts"] == 8
    assert split["field"] == "state"
    assert split["groups"] == [{"values": ["NY"], "accounts": 5}, {"values": ["MA"], "accounts": 3}]
    [merge] = body["merges"]
    assert merge["territory"]["name"] == "Small"
    assert merge["merge_with"]["name"] == "Mid"


def test_accepting_a_suggestion_locks_its_accounts_to_the_new_territory(api, workspace):
    plan, _east, west, _ann, _bob, accounts = _siblings(workspace)
    [move] = api.get(f"{PLANS}{plan.pk}/rebalance/").json()["moves"]
    response = api.post(
        f"{PLANS}{plan.pk}/rebalance/accept/", {"suggestions": [move["id"]]}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["locks"] == 2
    assert set(AccountLock.objects.values_list("account", "territory_id")) == {
        (accounts[0].crm_id, west.pk),
        (accounts[1].crm_id, west.pk),
    }
    # Applied once: the same suggestion again is refused, nothing more is written.
    again = api.post(
        f"{PLANS}{plan.pk}/rebalance/accept/", {"suggestions": [move["id"]]}, format="json"
    )
    assert again.status_code == 409
    assert AccountLock.objects.count() == 2


def test_accepting_on_a_draft_adds_named_accounts_from_its_simulation(
    api, workspace, django_capture_on_commit_callbacks
):
    plan, _east, _west, _ann, _bob, accounts = _siblings(workspace)
    draft_id = api.post(f"{PLANS}{plan.pk}/clone/", {"name": "Draft"}, format="json").json()["id"]
    url = f"{PLANS}{draft_id}/rebalance/"
    assert api.get(url).status_code == 409  # not simulated yet
    from territories.models import TerritoryPlan

    simulate_inline(TerritoryPlan.objects.get(pk=draft_id), django_capture_on_commit_callbacks)
    [move] = api.get(url).json()["moves"]
    assert move["to_territory"]["name"] == "West"
    response = api.post(f"{url}accept/", {"suggestions": [move["id"]]}, format="json")
    assert response.status_code == 200 and response.json()["named_accounts"] == 2
    draft_west = Territory.objects.get(plan_id=draft_id, name="West")
    assert draft_west.named_accounts == [accounts[0].crm_id, accounts[1].crm_id]
    assert AccountLock.objects.count() == 0


def test_rebalance_accept_needs_write_and_admin_and_a_known_suggestion(
    make_client, user_client, workspace, api
):
    plan, *_ = _siblings(workspace)
    url = f"{PLANS}{plan.pk}/rebalance/accept/"
    body = {"suggestions": ["abc"]}
    assert make_client(workspace, scopes="read").post(url, body, format="json").status_code == 403
    assert user_client(workspace, role="viewer").post(url, body, format="json").status_code == 403
    assert user_client(workspace, role="manager").post(url, body, format="json").status_code == 403
    assert api.post(url, {"suggestions": []}, format="json").status_code == 400
    assert api.post(url, {}, format="json").status_code == 400
    assert api.post(url, body, format="json").status_code == 409
    assert AccountLock.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_two_parallel_accepts_of_one_suggestion_lock_once(workspace):
    plan, _east, _west, _ann, _bob, _accounts = _siblings(workspace)
    key = api_key_for(workspace)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    [move] = client.get(f"{PLANS}{plan.pk}/rebalance/").json()["moves"]
    codes = []
    barrier = threading.Barrier(2)

    def accept():
        other = APIClient()
        other.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
        try:
            barrier.wait()
            response = other.post(
                f"{PLANS}{plan.pk}/rebalance/accept/", {"suggestions": [move["id"]]}, format="json"
            )
            codes.append(response.status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=accept) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(codes) == [200, 409]
    assert AccountLock.objects.count() == 2
    assert Account.objects.count() == 8
