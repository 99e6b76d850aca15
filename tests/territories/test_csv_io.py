"""Territories and named accounts in and out as CSV through the API."""

import csv
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from revorg.models import AuditEntry
from territories.models import Territory, TerritoryPlan
from tests.factories import (
    MemberFactory,
    TerritoryFactory,
    TerritoryPlanFactory,
    TerritorySlotFactory,
    active_plan,
)

IMPORT_URL = "/api/v1/territories/import/"
NAMED_URL = "/api/v1/territories/named-accounts/import/"
EXPORT_URL = "/api/v1/territories/export/"


def upload(text: str) -> dict:
    return {"file": SimpleUploadedFile("t.csv", text.encode(), content_type="text/csv")}


def read_csv(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


@pytest.fixture
def reps(workspace):
    return {
        name: MemberFactory(workspace=workspace, name=name, email=f"{name}@acme.com")
        for name in ("ada", "bob", "cy")
    }


TREE = """name,parent,kind,priority,distribution,country,state,employees_min,primary,backup,overlay
West,Americas,geographic,20,weighted,US,CA;OR;WA,,ada@acme.com:3;bob@acme.com,cy@acme.com,
Americas,,geographic,10,round_robin,US;CA,,,,,
West Enterprise,West,hybrid,30,least_loaded,,,1000,bob@acme.com,,cy@acme.com
"""


@pytest.mark.django_db
class TestTerritoryImport:
    def test_builds_a_tree_with_rules_and_slots_in_one_plan_version(self, api, workspace, reps):
        plan = active_plan(workspace)
        version = plan.version

        response = api.post(IMPORT_URL, upload(TREE), format="multipart")

        assert response.status_code == 200, response.content
        assert response.json()["created"] == 3
        west = Territory.objects.get(plan=plan, name="West")
        assert west.parent.name == "Americas"
        assert west.distribution == "weighted"
        assert west.rule == {
            "all": [
                {"field": "country", "op": "eq", "value": "US"},
                {"field": "state", "op": "in", "value": ["CA", "OR", "WA"]},
            ]
        }
        assert [(s.member.name, s.role, s.weight) for s in west.slots.order_by("id")] == [
            ("ada", "primary", 3),
            ("bob", "primary", 1),
            ("cy", "backup", 1),
        ]
        enterprise = Territory.objects.get(plan=plan, name="West Enterprise")
        assert enterprise.parent == west
        assert enterprise.rule == {"field": "employees", "op": "gte", "value": 1000}
        plan.refresh_from_db()
        assert plan.version == version + 1
        assert (
            AuditEntry.objects.filter(
                workspace=workspace, object_type="territories.territory", action="create"
            ).count()
            == 3
        )

    def test_the_imported_territory_routes_records(self, api, workspace, reps):
        api.post(IMPORT_URL, upload(TREE), format="multipart")

        match = api.post(
            "/api/v1/territories/match/",
            {"record": {"type": "lead", "fields": {"country": "US", "state": "OR"}}},
            format="json",
        )

        assert match.json()["winner"]["name"] == "West"

    def test_dry_run_previews_creates_and_updates_without_writing(self, api, workspace, reps):
        plan = active_plan(workspace)
        TerritoryFactory(workspace=workspace, plan=plan, name="americas")
        version = TerritoryPlan.objects.get(pk=plan.pk).version

        body = api.post(IMPORT_URL + "?dry_run=true", upload(TREE), format="multipart").json()

        assert body["dry_run"] is True
        assert [(r["key"], r["action"]) for r in body["rows"]] == [
            ("West", "create"),
            ("Americas", "update"),
            ("West Enterprise", "create"),
        ]
        assert Territory.objects.filter(plan=plan).count() == 1
        assert TerritoryPlan.objects.get(pk=plan.pk).version == version

    def test_bad_rows_refuse_the_file_naming_line_and_column(self, api, workspace, reps):
        text = (
            "name,parent,kind,priority,primary,rule\n"
            "Good,,geographic,1,ada@acme.com,\n"
            "Bad kind,,planet,1,,\n"
            "Bad slot,Nowhere,,x,zed@acme.com,\n"
            'Bad rule,,,,,"{""field"": ""country"", ""op"": ""equals"", ""value"": ""US""}"\n'
        )

        response = api.post(IMPORT_URL, upload(text), format="multipart")

        assert response.status_code == 400
        located = {(e["line"], e["column"]) for e in response.json()["errors"]}
        assert located == {
            (3, "kind"),
            (4, "parent"),
            (4, "priority"),
            (4, "primary"),
            (5, "rule"),
        }
        rule_error = next(e for e in response.json()["errors"] if e["column"] == "rule")
        assert "/op" in rule_error["message"]
        assert not Territory.objects.filter(workspace=workspace).exists()

    def test_a_parent_cycle_is_refused(self, api, workspace):
        text = "name,parent\nA,B\nB,A\n"

        response = api.post(IMPORT_URL, upload(text), format="multipart")

        assert response.status_code == 400
        assert {e["column"] for e in response.json()["errors"]} == {"parent"}

    def test_updating_keeps_the_slots_of_roles_the_file_leaves_out(self, api, workspace, reps):
        territory = TerritoryFactory(workspace=workspace, name="West")
        TerritorySlotFactory(territory=territory, member=reps["cy"], role="overlay")
        TerritorySlotFactory(territory=territory, member=reps["ada"], role="primary")

        api.post(IMPORT_URL, upload("name,primary\nwest,bob@acme.com\n"), format="multipart")

        assert sorted((s.member.name, s.role) for s in territory.slots.all()) == [
            ("bob", "primary"),
            ("cy", "overlay"),
        ]

    def test_an_archived_plan_and_another_workspaces_plan_are_refused(
        self, api, workspace, other_workspace
    ):
        archived = TerritoryPlanFactory(workspace=workspace, status="archived")
        theirs = TerritoryPlanFactory(workspace=other_workspace)

        for plan in (archived, theirs):
            response = api.post(
                f"{IMPORT_URL}?plan={plan.pk}", upload("name\nX\n"), format="multipart"
            )
            assert response.status_code == 400
            assert "plan" in response.json()
        assert not Territory.objects.exists()

    def test_a_plan_that_is_not_an_id_is_a_400_naming_it(self, api):
        response = api.post(f"{IMPORT_URL}?plan=abc", upload("name\nX\n"), format="multipart")

        assert response.status_code == 400
        assert "plan" in response.json()

    def test_a_draft_plan_can_be_imported_into(self, api, workspace):
        draft = TerritoryPlanFactory(workspace=workspace)

        api.post(f"{IMPORT_URL}?plan={draft.pk}", upload("name\nNew\n"), format="multipart")

        assert Territory.objects.get(name="New").plan == draft

    def test_slot_emails_of_another_workspace_are_unknown(self, api, other_workspace):
        MemberFactory(workspace=other_workspace, email="theirs@acme.com")

        response = api.post(
            IMPORT_URL, upload("name,primary\nX,theirs@acme.com\n"), format="multipart"
        )

        assert response.status_code == 400
        assert response.json()["errors"][0]["column"] == "primary"

    def test_a_read_only_key_is_refused(self, make_client, workspace):
        response = make_client(workspace, scopes="read").post(
            IMPORT_URL, upload("name\nX\n"), format="multipart"
        )

        assert response.status_code == 403


@pytest.mark.django_db
class TestNamedAccountImport:
    def test_adds_accounts_once_normalised_in_one_plan_version(self, api, workspace):
        plan = active_plan(workspace)
        strategic = TerritoryFactory(
            workspace=workspace, name="Strategic", kind="named_account", named_accounts=["a.com"]
        )
        version = TerritoryPlan.objects.get(pk=plan.pk).version
        text = (
            "territory,account\n"
            "strategic,https://www.B.com/about\n"
            "Strategic,a.com\n"
            "Strategic,001XYZ\n"
            "Strategic,b.com\n"
        )

        body = api.post(NAMED_URL, upload(text), format="multipart").json()

        assert body["rows"] == [
            {"line": 2, "action": "update", "key": "Strategic", "detail": "+2 accounts"}
        ]
        strategic.refresh_from_db()
        assert strategic.named_accounts == ["a.com", "b.com", "001xyz"]
        assert TerritoryPlan.objects.get(pk=plan.pk).version == version + 1
        match = api.post(
            "/api/v1/territories/match/",
            {"record": {"type": "lead", "fields": {"domain": "b.com"}}},
            format="json",
        )
        assert match.json()["winner"]["name"] == "Strategic"

    def test_an_unknown_territory_refuses_the_file(self, api, workspace):
        TerritoryFactory(workspace=workspace, name="Strategic")
        text = "territory,account\nStrategic,a.com\nNope,b.com\nStrategic,\n"

        response = api.post(NAMED_URL, upload(text), format="multipart")

        assert response.status_code == 400
        assert {(e["line"], e["column"]) for e in response.json()["errors"]} == {
            (3, "territory"),
            (4, "account"),
        }
        assert Territory.objects.get(name="Strategic").named_accounts == []

    def test_another_workspaces_territory_is_unknown(self, api, other_workspace):
        TerritoryFactory(workspace=other_workspace, name="Theirs")

        response = api.post(
            NAMED_URL, upload("territory,account\nTheirs,a.com\n"), format="multipart"
        )

        assert response.status_code == 400
        assert Territory.objects.get(name="Theirs").named_accounts == []


@pytest.mark.django_db
class TestTerritoryExport:
    def test_rules_as_json_slots_by_email_and_the_active_plan_only(self, api, workspace, reps):
        api.post(IMPORT_URL, upload(TREE), format="multipart")
        draft = TerritoryPlanFactory(workspace=workspace)
        TerritoryFactory(workspace=workspace, plan=draft, name="Draft only")

        rows = read_csv(api.get(EXPORT_URL))

        assert [r["name"] for r in rows] == ["Americas", "West", "West Enterprise"]
        west = rows[1]
        assert west["parent"] == "Americas"
        assert json.loads(west["rule"])["all"][1]["value"] == ["CA", "OR", "WA"]
        assert west["primary"] == "ada@acme.com:3;bob@acme.com"
        assert west["backup"] == "cy@acme.com"
        assert [r["name"] for r in read_csv(api.get(EXPORT_URL, {"plan": draft.pk}))] == [
            "Draft only"
        ]

    def test_an_export_imports_into_a_draft_as_the_same_tree(self, api, workspace, reps):
        api.post(IMPORT_URL, upload(TREE), format="multipart")
        exported = b"".join(api.get(EXPORT_URL).streaming_content).decode()
        draft = TerritoryPlanFactory(workspace=workspace)

        response = api.post(f"{IMPORT_URL}?plan={draft.pk}", upload(exported), format="multipart")

        assert response.status_code == 200, response.content
        again = read_csv(api.get(EXPORT_URL, {"plan": draft.pk}))
        original = read_csv(api.get(EXPORT_URL))
        for row in (*again, *original):
            row.pop("id")
        assert again == original

    def test_another_workspaces_territories_are_not_exported(self, api, other_workspace):
        TerritoryFactory(workspace=other_workspace, name="Theirs")

        assert read_csv(api.get(EXPORT_URL)) == []


@pytest.mark.django_db(transaction=True)
def test_parallel_uploads_of_one_tree_make_one_tree(live_server):
    """Four simultaneous imports of one file through real HTTP into one plan: the plan's lock
    orders them, so the territories exist once and later imports update them."""
    import threading

    import requests

    from tests.factories import WorkspaceFactory, api_key_for

    workspace = WorkspaceFactory()
    plan = active_plan(workspace)
    key = api_key_for(workspace)
    text = "name,parent,country\nWorld,,\n" + "".join(
        f"Country {i},World,C{i}\n" for i in range(20)
    )
    barrier = threading.Barrier(4)
    statuses = []

    def upload_once():
        barrier.wait()
        response = requests.post(
            f"{live_server.url}{IMPORT_URL}",
            headers={"Authorization": f"Bearer {key}"},
            files={"file": ("t.csv", text.encode(), "text/csv")},
            timeout=60,
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=upload_once) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [200] * 4
    assert Territory.objects.filter(plan=plan).count() == 21
    assert Territory.objects.filter(plan=plan, parent__name="World").count() == 20
