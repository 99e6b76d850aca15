"""Lists, pages and API alike, show a scoped role only the rows in its scope (DESIGN §9);
viewers read everything."""

import pytest

from tests.allocation.factories import AllocationFactory
from tests.book.factories import AccountFactory
from tests.capacities.factories import CapacityFactory
from tests.role_cases import membership_kwargs, role_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(workspace):
    world = role_world(workspace)
    for anchor, label in ((world.inside, "inside"), (world.outside, "outside")):
        AccountFactory(
            workspace=workspace,
            name=f"Acct {label}",
            owner=anchor.member,
            territory=anchor.territory,
        )
        AllocationFactory(
            workspace=workspace,
            owner=anchor.member,
            territory=anchor.territory,
            record_id=f"REC-{label}",
        )
        CapacityFactory(member=anchor.member, name=f"Cap {label}")
    return world


@pytest.mark.parametrize("role", ["rep", "manager", "director"])
def test_a_scoped_role_lists_only_its_rows(user_client, world, role):
    client = user_client(world.workspace, role=role, **membership_kwargs(world, role))

    for page in ("/members/", "/territories/", "/accounts/", "/allocations/", "/capacities/"):
        body = client.get(page).content.decode()
        assert "Outsider" not in body and "East" not in body, page
        assert "Acct outside" not in body and "REC-outside" not in body, page
    assert "Rep" in client.get("/members/").content.decode()
    assert "West/North" in client.get("/territories/").content.decode()
    assert "Acct inside" in client.get("/accounts/").content.decode()
    assert "REC-inside" in client.get("/allocations/").content.decode()

    api = {
        "members": {row["name"] for row in client.get("/api/v1/members/").json()["results"]},
        "accounts": {row["name"] for row in client.get("/api/v1/accounts/").json()["results"]},
        "capacities": {row["name"] for row in client.get("/api/v1/capacities/").json()["results"]},
        "records": {
            row["record"]["id"] for row in client.get("/api/v1/allocations/").json()["results"]
        },
    }
    assert "Outsider" not in api["members"] and "Rep" in api["members"]
    assert api["accounts"] == {"Acct inside"}
    assert api["capacities"] == {"Cap inside"}
    assert api["records"] == {"REC-inside"}


def test_a_viewer_lists_everything(user_client, world):
    client = user_client(world.workspace, role="viewer")
    accounts = {row["name"] for row in client.get("/api/v1/accounts/").json()["results"]}
    assert accounts == {"Acct inside", "Acct outside"}
    assert "Outsider" in client.get("/members/").content.decode()


def test_a_manager_cannot_give_a_capacity_to_a_member_outside_their_team(user_client, world):
    client = user_client(world.workspace, role="manager", member=world.lead)

    outside = client.post(
        "/api/v1/capacities/",
        {"member": world.outside.member.pk, "limit": 3, "period": "day"},
        format="json",
    )
    inside = client.post(
        "/api/v1/capacities/",
        {"member": world.inside.member.pk, "limit": 3, "period": "day"},
        format="json",
    )

    assert outside.status_code == 400 and "member" in outside.json()
    assert inside.status_code == 201


def test_a_director_adds_territories_only_inside_their_subtree(user_client, world):
    client = user_client(world.workspace, role="director", territory=world.director_territory)
    plan = world.director_territory.plan_id

    root = client.post("/api/v1/territories/", {"name": "Root", "plan": plan}, format="json")
    elsewhere = client.post(
        "/api/v1/territories/",
        {"name": "E2", "plan": plan, "parent": world.outside.territory.pk},
        format="json",
    )
    inside = client.post(
        "/api/v1/territories/",
        {"name": "West/South", "plan": plan, "parent": world.director_territory.pk},
        format="json",
    )
    renamed = client.patch(
        f"/api/v1/territories/{world.director_territory.pk}/",
        {"name": "West (renamed)", "parent": world.director_territory.parent_id},
        format="json",
    )

    assert root.status_code == 403
    assert elsewhere.status_code == 400 and "parent" in elsewhere.json()
    assert inside.status_code == 201
    assert renamed.status_code == 200, renamed.json()  # the root keeps its outside parent
