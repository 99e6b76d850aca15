"""Deleting never rewrites allocation history: a territory that allocations name, a plan
whose territories they name, and archived plans (the record of what routed) are kept, with a
409 that says why; at the database level the reference is protected too."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError

from allocation.models import Allocation
from territories.models import PlanStatus, Territory, TerritoryPlan
from tests.allocation.factories import AllocationFactory
from tests.factories import TerritoryFactory, TerritoryPlanFactory, active_plan

TERRITORIES = "/api/v1/territories/"
PLANS = "/api/v1/territory-plans/"


def _allocations(territory, count: int) -> list[Allocation]:
    return [
        AllocationFactory(workspace=territory.workspace, territory=territory) for _ in range(count)
    ]


def test_a_territory_that_allocations_reference_cannot_be_deleted(api, workspace):
    territory = TerritoryFactory(workspace=workspace, name="West")
    history = _allocations(territory, 12)
    response = api.delete(f"{TERRITORIES}{territory.pk}/")
    assert response.status_code == 409
    assert response.json()["detail"] == (
        "12 allocations reference this territory; deactivate it instead"
    )
    assert Territory.objects.filter(pk=territory.pk).exists()
    assert {a.territory_id for a in Allocation.objects.filter(pk__in=[a.pk for a in history])} == {
        territory.pk
    }
    # Deactivating is the way out, and allowed.
    deactivated = api.patch(f"{TERRITORIES}{territory.pk}/", {"is_active": False}, format="json")
    assert deactivated.status_code == 200


def test_a_territory_without_history_is_deleted(api, workspace):
    territory = TerritoryFactory(workspace=workspace)
    assert api.delete(f"{TERRITORIES}{territory.pk}/").status_code == 204
    assert not Territory.objects.filter(pk=territory.pk).exists()


def test_territories_of_an_archived_plan_are_kept(api, workspace):
    archived = TerritoryPlanFactory(workspace=workspace, status=PlanStatus.ARCHIVED)
    territory = TerritoryFactory(workspace=workspace, plan=archived)
    response = api.delete(f"{TERRITORIES}{territory.pk}/")
    assert response.status_code == 409
    assert "archived plan" in response.json()["detail"]
    assert Territory.objects.filter(pk=territory.pk).exists()


def test_an_archived_plan_cannot_be_deleted(api, workspace):
    old = active_plan(workspace)
    territory = TerritoryFactory(workspace=workspace, plan=old)
    _allocations(territory, 2)
    draft = TerritoryPlanFactory(workspace=workspace)
    assert api.post(f"{PLANS}{draft.pk}/activate/").status_code == 200
    response = api.delete(f"{PLANS}{old.pk}/")
    assert response.status_code == 409
    assert "archived plan is kept as history" in response.json()["detail"]
    assert TerritoryPlan.objects.filter(pk=old.pk).exists()
    assert Allocation.objects.filter(territory=territory).count() == 2


def test_a_draft_plan_whose_territories_history_names_is_kept(api, workspace):
    draft = TerritoryPlanFactory(workspace=workspace)
    _allocations(TerritoryFactory(workspace=workspace, plan=draft), 1)
    response = api.delete(f"{PLANS}{draft.pk}/")
    assert response.status_code == 409
    assert response.json()["detail"] == "1 allocation reference territories of this plan"
    assert TerritoryPlan.objects.filter(pk=draft.pk).exists()


def test_the_database_protects_the_reference_whatever_deletes(workspace):
    """Even a delete that bypasses the service does not null the history's territory."""
    territory = TerritoryFactory(workspace=workspace)
    allocation = _allocations(territory, 1)[0]
    with pytest.raises(ProtectedError):
        territory.delete()
    allocation.refresh_from_db()
    assert allocation.territory_id == territory.pk


def test_the_database_refuses_a_raw_delete_of_a_referenced_territory(workspace):
    territory = TerritoryFactory(workspace=workspace)
    _allocations(territory, 1)
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM territories_territory WHERE id = %s", [territory.pk])
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    assert Allocation.objects.filter(territory=territory).count() == 1


def test_other_workspace_cannot_delete_our_territory(workspace, other_api):
    territory = TerritoryFactory(workspace=workspace)
    assert other_api.delete(f"{TERRITORIES}{territory.pk}/").status_code == 404
    assert Territory.objects.filter(pk=territory.pk).exists()
