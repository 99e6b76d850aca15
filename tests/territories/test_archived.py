"""An archived plan is the record of what routed: the API refuses every write to it, its
territories, their slots and its account locks with a 409 that names the plan and its state,
and nothing changes (no new plan version either)."""

import pytest

from territories.models import AccountLock, PlanStatus, Territory, TerritoryPlan
from tests.factories import (
    AccountLockFactory,
    MemberFactory,
    TerritoryFactory,
    TerritoryPlanFactory,
    active_plan,
)

TERRITORIES = "/api/v1/territories/"
LOCKS = "/api/v1/account-locks/"


@pytest.fixture
def archived(workspace):
    plan = TerritoryPlanFactory(workspace=workspace, name="FY25", status=PlanStatus.ARCHIVED)
    territory = TerritoryFactory(workspace=workspace, plan=plan, name="Old West")
    lock = AccountLockFactory(workspace=workspace, territory=territory, account="acme.com")
    return {"plan": plan, "territory": territory, "lock": lock}


def _refused(response):
    assert response.status_code == 409, response.content
    assert "plan 'FY25' is archived" in response.json()["detail"]


def test_territories_of_an_archived_plan_are_not_created_changed_or_deleted(api, archived):
    plan, territory = archived["plan"], archived["territory"]
    member = MemberFactory(workspace=plan.workspace)
    version = plan.version
    _refused(api.post(TERRITORIES, {"plan": plan.pk, "name": "New"}, format="json"))
    _refused(api.patch(f"{TERRITORIES}{territory.pk}/", {"name": "Renamed"}, format="json"))
    _refused(
        api.patch(
            f"{TERRITORIES}{territory.pk}/", {"slots": [{"member": member.pk}]}, format="json"
        )
    )
    _refused(api.delete(f"{TERRITORIES}{territory.pk}/"))
    assert list(Territory.objects.filter(plan=plan).values_list("name", flat=True)) == ["Old West"]
    assert not territory.slots.exists()
    assert TerritoryPlan.objects.get(pk=plan.pk).version == version


def test_account_locks_of_an_archived_plan_are_not_created_moved_or_deleted(
    api, workspace, archived
):
    territory, lock = archived["territory"], archived["lock"]
    live = TerritoryFactory(workspace=workspace, plan=active_plan(workspace))
    _refused(api.post(LOCKS, {"account": "b.com", "territory": territory.pk}, format="json"))
    _refused(api.patch(f"{LOCKS}{lock.pk}/", {"territory": live.pk}, format="json"))
    _refused(api.delete(f"{LOCKS}{lock.pk}/"))
    assert list(AccountLock.objects.values_list("account", "territory_id")) == [
        ("acme.com", territory.pk)
    ]


def test_an_archived_plan_is_not_renamed(api, archived):
    response = api.patch(
        f"/api/v1/territory-plans/{archived['plan'].pk}/", {"name": "FY25b"}, format="json"
    )
    _refused(response)
    assert TerritoryPlan.objects.get(pk=archived["plan"].pk).name == "FY25"
