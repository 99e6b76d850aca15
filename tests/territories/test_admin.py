"""The Django admin shows plans, territories, slots and account locks but cannot change
them: every write goes through the territories services, which bump the plan version that
keys the compiled matcher, so routing never keeps using a stale rule."""

import pytest
from django.test import Client

from territories.models import AccountLock, Territory, TerritoryPlan
from tests.factories import (
    AccountLockFactory,
    MemberFactory,
    TerritoryFactory,
    TerritorySlotFactory,
    UserFactory,
)

MATCH = "/api/v1/territories/match/"
US = {"field": "country", "op": "eq", "value": "US"}
FR = {"field": "country", "op": "eq", "value": "FR"}


@pytest.fixture
def superuser_client(db):
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def _winner(api, **fields):
    response = api.post(MATCH, {"record": {"fields": fields}}, format="json")
    winner = response.json()["winner"]
    return winner and winner["name"]


def test_admin_shows_territories_without_a_save_button(superuser_client, workspace):
    territory = TerritoryFactory(workspace=workspace, name="West", rule=US)
    TerritorySlotFactory(territory=territory, member=MemberFactory(workspace=workspace))
    page = superuser_client.get(f"/admin/territories/territory/{territory.pk}/change/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "West" in body
    assert 'name="_save"' not in body
    assert superuser_client.get("/admin/territories/territory/add/").status_code == 403


def test_admin_cannot_change_a_rule_so_the_match_keeps_the_saved_one(
    superuser_client, api, workspace
):
    territory = TerritoryFactory(workspace=workspace, name="West", rule=US)
    assert _winner(api, country="US") == "West"  # the compiled matcher is cached now
    response = superuser_client.post(
        f"/admin/territories/territory/{territory.pk}/change/",
        {"name": "West", "rule": '{"field": "country", "op": "eq", "value": "FR"}'},
    )
    assert response.status_code == 403
    territory.refresh_from_db()
    assert territory.rule == US
    assert _winner(api, country="US") == "West"
    # The same change through the API is seen by the very next match.
    api.patch(f"/api/v1/territories/{territory.pk}/", {"rule": FR}, format="json")
    assert _winner(api, country="US") is None
    assert _winner(api, country="FR") == "West"


@pytest.mark.parametrize("model", ["territory", "territoryplan", "accountlock"])
def test_admin_cannot_add_change_or_delete_plan_content(superuser_client, workspace, model):
    lock = AccountLockFactory(territory=TerritoryFactory(workspace=workspace))
    obj = {
        "territory": lock.territory,
        "territoryplan": lock.territory.plan,
        "accountlock": lock,
    }[model]
    base = f"/admin/territories/{model}/"
    assert superuser_client.get(f"{base}{obj.pk}/change/").status_code == 200
    assert superuser_client.post(f"{base}{obj.pk}/change/", {}).status_code == 403
    assert superuser_client.post(f"{base}{obj.pk}/delete/", {"post": "yes"}).status_code == 403
    assert superuser_client.get(f"{base}add/").status_code == 403
    assert Territory.objects.filter(pk=lock.territory_id).exists()
    assert TerritoryPlan.objects.filter(pk=lock.territory.plan_id).exists()
    assert AccountLock.objects.filter(pk=lock.pk).exists()
