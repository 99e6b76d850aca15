"""The browser's CSV pages: import with a preview before anything is written, and the list
pages' exports keeping their filters."""

import csv
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from members.models import Member
from territories.models import Territory
from tests.allocation.factories import AllocationFactory
from tests.capacities.factories import CapacityFactory
from tests.factories import MemberFactory, TerritoryFactory, TerritoryPlanFactory, active_plan

GOOD = "name,email,role\nAda Park,ada@acme.com,AE\nLin Chu,lin@acme.com,manager\n"
BAD = "name,email,role\nAda Park,ada@acme.com,AE\nLin Chu,not-an-email,manager\n"


def csv_file(text: str):
    return SimpleUploadedFile("members.csv", text.encode(), content_type="text/csv")


def read_csv(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


@pytest.mark.django_db
class TestImportPage:
    def test_a_bad_row_is_shown_with_line_and_column_and_nothing_is_written(
        self, user_client, workspace
    ):
        client = user_client(workspace, role="admin")

        response = client.post("/members/import/", {"file": csv_file(BAD)})

        assert response.status_code == 400
        page = response.content.decode()
        assert "nothing was imported" in page
        assert re.search(r"<td>3</td><td><code>email</code></td>", page)
        assert not Member.objects.filter(workspace=workspace).exists()

    def test_preview_then_confirm_imports_the_previewed_file(self, user_client, workspace):
        client = user_client(workspace, role="admin")

        preview = client.post("/members/import/", {"file": csv_file(GOOD)})

        assert preview.status_code == 200
        assert "Nothing is written yet" in preview.content.decode()
        assert not Member.objects.filter(workspace=workspace).exists()
        token = preview.context["token"]
        done = client.post("/members/import/", {"token": token}, follow=True)
        assert done.redirect_chain[-1][0] == "/members/"
        assert "Imported: 2 created, 0 updated." in done.content.decode()
        assert set(Member.objects.filter(workspace=workspace).values_list("email", flat=True)) == {
            "ada@acme.com",
            "lin@acme.com",
        }
        again = client.post("/members/import/", {"token": token})
        assert again.status_code == 400
        assert Member.objects.filter(workspace=workspace).count() == 2

    def test_a_preview_is_only_its_users(self, user_client, workspace):
        token = (
            user_client(workspace)
            .post("/members/import/", {"file": csv_file(GOOD)})
            .context["token"]
        )

        response = user_client(workspace).post("/members/import/", {"token": token})

        assert response.status_code == 400
        assert not Member.objects.filter(workspace=workspace).exists()

    @pytest.mark.parametrize("role", ["viewer", "manager"])
    def test_only_admins_import(self, user_client, workspace, role):
        client = user_client(workspace, role=role)

        assert client.get("/members/import/").status_code == 403
        assert client.post("/members/import/", {"file": csv_file(GOOD)}).status_code == 403
        assert not Member.objects.filter(workspace=workspace).exists()

    def test_territories_import_into_the_plan_of_the_page(self, user_client, workspace):
        draft = TerritoryPlanFactory(workspace=workspace)
        client = user_client(workspace)
        file = SimpleUploadedFile("t.csv", b"name,country\nFrance,FR\n", content_type="text/csv")

        token = client.post(
            f"/territories/import/?plan={draft.pk}", {"file": file, "plan": draft.pk}
        ).context["token"]
        client.post("/territories/import/", {"token": token, "plan": draft.pk})

        assert Territory.objects.get(name="France").plan == draft

    def test_named_accounts_page(self, user_client, workspace):
        territory = TerritoryFactory(workspace=workspace, name="Strategic")
        client = user_client(workspace)
        file = SimpleUploadedFile("n.csv", b"territory,account\nStrategic,acme.com\n")

        token = client.post("/territories/named-accounts/import/", {"file": file}).context["token"]
        client.post("/territories/named-accounts/import/", {"token": token})

        territory.refresh_from_db()
        assert territory.named_accounts == ["acme.com"]


@pytest.mark.django_db
class TestExportPages:
    def test_members_keep_the_pages_filters(self, user_client, workspace, other_workspace):
        MemberFactory(workspace=workspace, name="Ada", role="AE")
        MemberFactory(workspace=workspace, name="Adam", role="AE", is_active=False)
        MemberFactory(workspace=workspace, name="Bob", role="SDR")
        MemberFactory(workspace=other_workspace, name="Ada Theirs", role="AE")
        client = user_client(workspace, role="viewer")

        response = client.get("/members/export/", {"q": "ada", "role": "ae", "active": "yes"})

        assert response.status_code == 200
        assert response["Content-Disposition"] == 'attachment; filename="members.csv"'
        assert [r["name"] for r in read_csv(response)] == ["Ada"]

    def test_allocations_keep_the_pages_filters(self, user_client, workspace):
        ada = MemberFactory(workspace=workspace)
        AllocationFactory(workspace=workspace, owner=ada, record_id="MINE")
        AllocationFactory(workspace=workspace, record_id="OTHER")

        rows = read_csv(user_client(workspace).get("/allocations/export/", {"owner": ada.pk}))

        assert [r["record_id"] for r in rows] == ["MINE"]

    def test_allocations_keep_the_write_back_filter(self, user_client, workspace):
        from crm_sync.models import WritebackOutbox

        failed = AllocationFactory(workspace=workspace, record_id="FAILED", record_crm="salesforce")
        AllocationFactory(workspace=workspace, record_id="NONE")
        WritebackOutbox.objects.create(
            workspace=workspace,
            allocation=failed,
            provider="salesforce",
            record_type="lead",
            record_id="FAILED",
            owner_crm_user_id="005X",
            status="failed",
        )

        rows = read_csv(user_client(workspace).get("/allocations/export/", {"writeback": "failed"}))

        assert [(r["record_id"], r["writeback_status"]) for r in rows] == [("FAILED", "failed")]

    def test_capacities_keep_the_search(self, user_client, workspace):
        CapacityFactory(member=MemberFactory(workspace=workspace, name="Ada"))
        CapacityFactory(member=MemberFactory(workspace=workspace, name="Bob"))

        rows = read_csv(user_client(workspace).get("/capacities/export/", {"q": "bo"}))

        assert [r["member_name"] for r in rows] == ["Bob"]

    def test_territories_default_to_the_active_plan(self, user_client, workspace):
        TerritoryFactory(workspace=workspace, name="Active one")
        draft = TerritoryPlanFactory(workspace=workspace)
        TerritoryFactory(workspace=workspace, plan=draft, name="Draft one")
        client = user_client(workspace)

        assert [r["name"] for r in read_csv(client.get("/territories/export/"))] == ["Active one"]
        assert [
            r["name"] for r in read_csv(client.get("/territories/export/", {"plan": draft.pk}))
        ] == ["Draft one"]

    def test_a_bad_filter_is_a_400_page(self, user_client, workspace):
        response = user_client(workspace).get("/allocations/export/", {"owner": "abc"})

        assert response.status_code == 400

    def test_another_workspaces_plan_exports_nothing(self, user_client, workspace, other_workspace):
        theirs = TerritoryPlanFactory(workspace=other_workspace)
        TerritoryFactory(workspace=other_workspace, plan=theirs, name="Theirs")

        response = user_client(workspace).get("/territories/export/", {"plan": theirs.pk})

        assert read_csv(response) == []

    def test_list_pages_link_their_export_and_admins_their_import(self, user_client, workspace):
        active_plan(workspace)
        admin, viewer = user_client(workspace, "admin"), user_client(workspace, "viewer")

        members_page = admin.get("/members/", {"q": "ada"}).content.decode()
        assert 'href="/members/export/?q=ada"' in members_page
        assert 'href="/members/import/"' in members_page
        assert "/members/import/" not in viewer.get("/members/").content.decode()
        for page, export in [
            ("/allocations/?status=assigned", "/allocations/export/?status=assigned"),
            ("/capacities/?q=bo", "/capacities/export/?q=bo"),
        ]:
            assert f'href="{export}"' in viewer.get(page).content.decode()
        territories_page = admin.get("/territories/").content.decode()
        assert "/territories/export/?plan=" in territories_page
        assert "/territories/import/?plan=" in territories_page
        assert "/territories/named-accounts/import/?plan=" in territories_page
