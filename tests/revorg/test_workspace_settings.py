"""The workspace settings page: admins set the name and the owner of last resort (and any
other workspace setting the API exposes) without Django admin; audited; the owner of last
resort takes the records nobody else can."""

import pytest

from revorg.models import AuditEntry, Workspace
from tests.factories import MemberFactory, TerritoryFactory

URL = "/settings/"


def test_an_admin_sets_name_and_owner_of_last_resort_audited(user_client, workspace):
    keeper = MemberFactory(workspace=workspace, name="Kim Keeper")
    client = user_client(workspace, role="admin")
    assert "Owner of last resort" in client.get(URL).content.decode()
    response = client.post(URL, {"name": "Acme RevOps", "default_member": keeper.pk})
    assert response.status_code == 302
    workspace.refresh_from_db()
    assert (workspace.name, workspace.default_member_id) == ("Acme RevOps", keeper.pk)
    [entry] = AuditEntry.objects.filter(workspace=workspace, object_type="revorg.workspace")
    assert (entry.before["default_member"], entry.after["default_member"]) == (None, keeper.pk)
    assert entry.after["name"] == "Acme RevOps"


def test_clearing_the_owner_of_last_resort(user_client, workspace):
    workspace.default_member = MemberFactory(workspace=workspace)
    workspace.save()
    user_client(workspace).post(URL, {"name": workspace.name, "default_member": ""})
    workspace.refresh_from_db()
    assert workspace.default_member is None


def test_a_record_nobody_can_take_falls_back_to_the_new_owner(api, user_client, workspace):
    TerritoryFactory(workspace=workspace)  # matches everything, no slot: nobody eligible
    keeper = MemberFactory(workspace=workspace, name="Kim Keeper")
    body = {"record": {"type": "lead", "fields": {"country": "US"}}}
    assert api.post("/api/v1/allocations/", body, format="json").json()["status"] == "unassigned"
    user_client(workspace).post(URL, {"name": workspace.name, "default_member": keeper.pk})
    made = api.post("/api/v1/allocations/", body, format="json").json()
    assert (made["status"], made["owner"]["name"]) == ("fallback", "Kim Keeper")


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": "ok", "default_member": "abc"}, "default_member"),
        ({"name": "ok", "default_member": "999999"}, "default_member"),
    ],
)
def test_bad_input_is_400_naming_the_field_and_nothing_changes(user_client, workspace, data, field):
    name = workspace.name
    response = user_client(workspace).post(URL, data)
    assert response.status_code == 400
    assert f'data-error="{field}"' in response.content.decode()
    workspace.refresh_from_db()
    assert workspace.name == name and workspace.default_member is None
    assert not AuditEntry.objects.filter(workspace=workspace).exists()


def test_another_workspaces_member_cannot_be_the_owner(user_client, workspace, other_workspace):
    theirs = MemberFactory(workspace=other_workspace)
    response = user_client(workspace).post(URL, {"name": "x", "default_member": theirs.pk})
    assert response.status_code == 400
    assert Workspace.objects.get(pk=workspace.pk).default_member is None


@pytest.mark.parametrize("role", ["manager", "viewer"])
def test_only_admins(user_client, workspace, role):
    client = user_client(workspace, role=role)
    assert client.get(URL).status_code == 403
    assert client.post(URL, {"name": "taken over"}).status_code == 403
    workspace.refresh_from_db()
    assert workspace.name != "taken over"


def test_the_member_picker_searches(user_client, workspace):
    MemberFactory(workspace=workspace, name="Findable Fay")
    MemberFactory(workspace=workspace, name="Other Otto")
    body = user_client(workspace).get(URL, {"member_q": "findable"}).content.decode()
    picker = body[body.index('data-testid="default-member"') : body.index("</select>")]
    assert "Findable Fay" in picker and "Other Otto" not in picker


def test_account_ownership_writeback_is_a_setting_too(user_client, workspace):
    client = user_client(workspace)
    assert 'name="account_ownership_writeback"' in client.get(URL).content.decode()
    client.post(URL, {"name": workspace.name, "account_ownership_writeback": "on"})
    workspace.refresh_from_db()
    assert workspace.account_ownership_writeback is True
    client.post(URL, {"name": workspace.name})  # an unticked box is off
    workspace.refresh_from_db()
    assert workspace.account_ownership_writeback is False
    changes = AuditEntry.objects.filter(workspace=workspace, object_type="revorg.workspace")
    assert sorted(e.after["account_ownership_writeback"] for e in changes) == [False, True]


def test_the_fiscal_year_start_month_is_a_setting_in_the_page_and_the_api(
    user_client, api, workspace
):
    client = user_client(workspace)
    page = client.get(URL).content.decode()
    assert 'name="fiscal_year_start_month"' in page and ">February</option>" in page
    assert (
        client.post(URL, {"name": workspace.name, "fiscal_year_start_month": "2"}).status_code
        == 302
    )
    workspace.refresh_from_db()
    assert workspace.fiscal_year_start_month == 2
    assert api.get("/api/v1/workspace/").json()["fiscal_year_start_month"] == 2
    response = client.post(URL, {"name": workspace.name, "fiscal_year_start_month": "13"})
    assert response.status_code == 400
    assert 'data-error="fiscal_year_start_month"' in response.content.decode()
    refused = api.patch("/api/v1/workspace/", {"fiscal_year_start_month": 0}, format="json")
    assert refused.status_code == 400 and "fiscal_year_start_month" in refused.json()
    assert (
        api.patch("/api/v1/workspace/", {"fiscal_year_start_month": 4}, format="json").status_code
        == 200
    )
    workspace.refresh_from_db()
    assert workspace.fiscal_year_start_month == 4
