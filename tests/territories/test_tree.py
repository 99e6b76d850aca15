"""The territory hierarchy: at most 20 levels (refused at save with 400 naming `parent`) and
never a cycle, also when legacy data (written before these checks) is deeper or loops."""

import pytest

from territories.models import Territory
from territories.services import MAX_TREE_DEPTH
from tests.factories import TerritoryFactory, active_plan

TERRITORIES = "/api/v1/territories/"


def _chain(workspace, length: int, name: str = "Level") -> list[Territory]:
    """Territories nested `length` deep, written directly (as legacy data would be)."""
    plan = active_plan(workspace)
    chain: list[Territory] = []
    for level in range(1, length + 1):
        parent = chain[-1] if chain else None
        chain.append(
            TerritoryFactory(workspace=workspace, plan=plan, parent=parent, name=f"{name} {level}")
        )
    return chain


def test_a_territory_at_depth_20_is_accepted_and_at_depth_21_refused(api, workspace):
    chain = _chain(workspace, MAX_TREE_DEPTH)
    at_limit = api.post(TERRITORIES, {"name": "Deepest", "parent": chain[-2].pk}, format="json")
    assert at_limit.status_code == 201, at_limit.json()
    too_deep = api.post(TERRITORIES, {"name": "Too deep", "parent": chain[-1].pk}, format="json")
    assert too_deep.status_code == 400
    assert too_deep.json()["parent"] == ["the hierarchy would be 21 levels deep; the limit is 20"]
    assert not Territory.objects.filter(name="Too deep").exists()


def test_moving_a_subtree_counts_its_own_depth(api, workspace):
    """A branch 11 deep moved under a leaf at depth 10 would reach 21 levels."""
    upper = _chain(workspace, 10, "Upper")
    lower = _chain(workspace, 11, "Lower")
    response = api.patch(f"{TERRITORIES}{lower[0].pk}/", {"parent": upper[-1].pk}, format="json")
    assert response.status_code == 400
    assert "21 levels deep" in response.json()["parent"][0]
    lower[0].refresh_from_db()
    assert lower[0].parent_id is None
    fits = api.patch(f"{TERRITORIES}{lower[0].pk}/", {"parent": upper[-2].pk}, format="json")
    assert fits.status_code == 200


def test_other_edits_of_legacy_deep_data_still_save(api, workspace):
    """Only a parent change is measured: renaming a territory of a too-deep legacy branch
    works."""
    deep = _chain(workspace, 25)
    response = api.patch(f"{TERRITORIES}{deep[-1].pk}/", {"name": "Renamed"}, format="json")
    assert response.status_code == 200


@pytest.mark.parametrize("field", ["parent", "fallback_territory"])
def test_a_chain_that_already_loops_is_refused_as_a_target(api, workspace, field):
    """Legacy data with a cycle (from before the plan lock): nothing new joins it."""
    a, b = TerritoryFactory(workspace=workspace), TerritoryFactory(workspace=workspace)
    Territory.objects.filter(pk=a.pk).update(**{f"{field}_id": b.pk})
    Territory.objects.filter(pk=b.pk).update(**{f"{field}_id": a.pk})
    response = api.post(TERRITORIES, {"name": "Joiner", field: a.pk}, format="json")
    assert response.status_code == 400
    assert "cycle" in response.json()[field][0]
