"""Every write of a plan's contents bumps its version exactly once (the compiled-matcher
cache key), whichever path makes it: territories, slots, account locks, activation, over the
REST API and in the browser UI."""

import pytest

from territories.models import TerritoryPlan
from tests.factories import (
    AccountLockFactory,
    MemberFactory,
    TerritoryFactory,
    TerritoryPlanFactory,
    active_plan,
)

TERRITORIES = "/api/v1/territories/"
LOCKS = "/api/v1/account-locks/"


def _version(plan) -> int:
    return TerritoryPlan.objects.values_list("version", flat=True).get(pk=plan.pk)


def _create_territory(api, workspace, territory, lock):
    rule = {"field": "x", "op": "exists"}
    return api.post(TERRITORIES, {"name": "New", "rule": rule}, format="json")


def _change_rule(api, workspace, territory, lock):
    rule = {"field": "country", "op": "eq", "value": "FR"}
    return api.patch(f"{TERRITORIES}{territory.pk}/", {"rule": rule}, format="json")


def _change_slots(api, workspace, territory, lock):
    member = MemberFactory(workspace=workspace)
    return api.patch(
        f"{TERRITORIES}{territory.pk}/", {"slots": [{"member": member.pk}]}, format="json"
    )


def _delete_territory(api, workspace, territory, lock):
    return api.delete(f"{TERRITORIES}{TerritoryFactory(workspace=workspace).pk}/")


def _create_lock(api, workspace, territory, lock):
    return api.post(LOCKS, {"account": "new.example", "territory": territory.pk}, format="json")


def _change_lock(api, workspace, territory, lock):
    return api.patch(f"{LOCKS}{lock.pk}/", {"reason": "exec sponsor"}, format="json")


def _delete_lock(api, workspace, territory, lock):
    return api.delete(f"{LOCKS}{lock.pk}/")


@pytest.mark.parametrize(
    "write",
    [
        _create_territory,
        _change_rule,
        _change_slots,
        _delete_territory,
        _create_lock,
        _change_lock,
        _delete_lock,
    ],
)
def test_every_api_write_bumps_the_plan_version_once(api, workspace, write):
    territory = TerritoryFactory(workspace=workspace)
    lock = AccountLockFactory(territory=territory)
    plan = active_plan(workspace)
    before = _version(plan)
    response = write(api, workspace, territory, lock)
    assert response.status_code in (200, 201, 204), response.content
    assert _version(plan) == before + 1


def test_moving_a_lock_to_another_plan_bumps_both(api, workspace):
    lock = AccountLockFactory(territory=TerritoryFactory(workspace=workspace))
    draft = TerritoryPlanFactory(workspace=workspace)
    elsewhere = TerritoryFactory(workspace=workspace, plan=draft)
    before = (_version(lock.territory.plan), _version(draft))
    response = api.patch(f"{LOCKS}{lock.pk}/", {"territory": elsewhere.pk}, format="json")
    assert response.status_code == 200
    assert (_version(lock.territory.plan), _version(draft)) == (before[0] + 1, before[1] + 1)


def test_activation_bumps_the_version_over_the_api_and_in_the_ui(api, user_client, workspace):
    draft = TerritoryPlanFactory(workspace=workspace, name="FY27")
    before = _version(draft)
    assert api.post(f"/api/v1/territory-plans/{draft.pk}/activate/").status_code == 200
    assert _version(draft) == before + 1
    other = TerritoryPlanFactory(workspace=workspace, name="FY28")
    before = _version(other)
    user_client(workspace).post(f"/territories/plans/{other.pk}/activate/", {"confirm": "FY28"})
    assert _version(other) == before + 1


def test_deleting_a_member_bumps_the_plans_whose_slots_and_fallbacks_go_with_it(api, workspace):
    member = MemberFactory(workspace=workspace)
    slotted = TerritoryFactory(workspace=workspace)
    slotted.slots.create(workspace=workspace, member=member)
    draft = TerritoryPlanFactory(workspace=workspace)
    TerritoryFactory(workspace=workspace, plan=draft, fallback_member=member)
    untouched = TerritoryPlanFactory(workspace=workspace)
    before = [_version(slotted.plan), _version(draft), _version(untouched)]
    assert api.delete(f"/api/v1/members/{member.pk}/").status_code == 204
    after = [_version(slotted.plan), _version(draft), _version(untouched)]
    assert after == [before[0] + 1, before[1] + 1, before[2]]


def test_plans_are_created_as_drafts_and_renaming_one_keeps_its_matcher(api, workspace):
    created = api.post(
        "/api/v1/territory-plans/", {"name": "FY27", "status": "active"}, format="json"
    )
    assert created.status_code == 201
    assert created.json()["status"] == "draft"
    plan = TerritoryPlan.objects.get(pk=created.json()["id"])
    before = _version(plan)
    renamed = api.patch(f"/api/v1/territory-plans/{plan.pk}/", {"name": "FY27 v2"}, format="json")
    assert renamed.status_code == 200 and renamed.json()["name"] == "FY27 v2"
    assert _version(plan) == before
