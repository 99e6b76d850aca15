"""The account-lock page: the locks of the active plan with their territories' names,
searchable by account; admins create and remove them (audited, the plan version moves so
every matcher sees the change); others' rows are 404s and bad input is a 400 naming the
field with nothing written."""

import pytest

from revorg.models import AuditEntry
from territories.models import AccountLock, TerritoryPlan
from tests.factories import AccountLockFactory, TerritoryFactory, TerritoryPlanFactory


def version(plan_id):
    return TerritoryPlan.objects.get(pk=plan_id).version


def test_the_page_lists_active_plan_locks_with_territory_names(user_client, workspace):
    west = TerritoryFactory(workspace=workspace, name="West Coast")
    AccountLockFactory(territory=west, workspace=workspace, account="acme.com")
    draft = TerritoryFactory(
        workspace=workspace, plan=TerritoryPlanFactory(workspace=workspace), name="Draft T"
    )
    AccountLockFactory(territory=draft, workspace=workspace, account="draftonly.com")
    body = user_client(workspace, role="viewer").get("/account-locks/").content.decode()
    table = body[body.index('data-testid="locks"') :]
    assert "acme.com" in table and "West Coast" in table
    assert "draftonly.com" not in table
    other_plan = user_client(workspace, role="viewer").get(f"/account-locks/?plan={draft.plan_id}")
    assert "draftonly.com" in other_plan.content.decode()


def test_search_by_account(user_client, workspace):
    territory = TerritoryFactory(workspace=workspace)
    AccountLockFactory(territory=territory, workspace=workspace, account="acme.com")
    AccountLockFactory(territory=territory, workspace=workspace, account="globex.com")
    body = user_client(workspace, role="viewer").get("/account-locks/?q=glob").content.decode()
    table = body[body.index('data-testid="locks"') :]
    assert "globex.com" in table and "acme.com" not in table


def test_an_admin_creates_and_removes_a_lock_audited_and_the_plan_moves(user_client, workspace):
    territory = TerritoryFactory(workspace=workspace, name="Named")
    client = user_client(workspace, role="admin")
    before = version(territory.plan_id)
    response = client.post(
        "/account-locks/new/",
        {"account": " WWW.Acme.com ", "territory": territory.pk, "reason": "strategic"},
    )
    assert response.status_code == 302
    lock = AccountLock.objects.get(workspace=workspace)
    assert (lock.account, lock.territory_id, lock.reason) == ("acme.com", territory.pk, "strategic")
    assert version(territory.plan_id) == before + 1
    assert client.post(f"/account-locks/{lock.pk}/delete/").status_code == 302
    assert not AccountLock.objects.filter(workspace=workspace).exists()
    assert version(territory.plan_id) == before + 2
    actions = AuditEntry.objects.filter(
        workspace=workspace, object_type="territories.accountlock"
    ).values_list("action", flat=True)
    assert sorted(actions) == ["create", "delete"]


def test_a_locked_account_routes_to_its_territory(api, user_client, workspace):
    from tests.factories import TerritorySlotFactory

    TerritorySlotFactory(territory=TerritoryFactory(workspace=workspace, priority=100))
    locked = TerritoryFactory(workspace=workspace, name="Locked target")
    TerritorySlotFactory(territory=locked)
    user_client(workspace).post(
        "/account-locks/new/", {"account": "acme.com", "territory": locked.pk}
    )
    made = api.post(
        "/api/v1/allocations/",
        {"record": {"type": "account", "fields": {"domain": "acme.com"}}},
        format="json",
    ).json()
    assert made["territory"]["name"] == "Locked target"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"account": "", "territory": "T"}, "account"),
        ({"account": "dup.com", "territory": "T"}, "account"),
        ({"account": "x.com", "territory": "999999"}, "territory"),
        ({"account": "x.com", "territory": "abc"}, "territory"),
    ],
)
def test_bad_input_is_400_naming_the_field_and_writes_nothing(user_client, workspace, data, field):
    territory = TerritoryFactory(workspace=workspace)
    AccountLockFactory(territory=territory, workspace=workspace, account="dup.com")
    data = {k: (territory.pk if v == "T" else v) for k, v in data.items()}
    response = user_client(workspace).post("/account-locks/new/", data)
    assert response.status_code == 400
    assert f'data-error="{field}"' in response.content.decode()
    assert AccountLock.objects.filter(workspace=workspace).count() == 1


def test_another_workspaces_territory_or_lock_is_refused(user_client, workspace, other_workspace):
    theirs = TerritoryFactory(workspace=other_workspace)
    their_lock = AccountLockFactory(territory=theirs, workspace=other_workspace)
    client = user_client(workspace)
    response = client.post("/account-locks/new/", {"account": "x.com", "territory": theirs.pk})
    assert response.status_code == 400
    assert client.post(f"/account-locks/{their_lock.pk}/delete/").status_code == 404
    assert AccountLock.objects.filter(pk=their_lock.pk).exists()
    assert not AccountLock.objects.filter(workspace=workspace).exists()


@pytest.mark.parametrize("role", ["manager", "viewer"])
def test_only_admins_write_locks(user_client, workspace, role):
    territory = TerritoryFactory(workspace=workspace)
    lock = AccountLockFactory(territory=territory, workspace=workspace)
    client = user_client(workspace, role=role)
    new = client.post("/account-locks/new/", {"account": "x.com", "territory": territory.pk})
    assert new.status_code == 403
    assert client.post(f"/account-locks/{lock.pk}/delete/").status_code == 403
    assert list(AccountLock.objects.values_list("pk", flat=True)) == [lock.pk]
    assert "Lock account</button>" not in client.get("/account-locks/").content.decode()
