"""`/quotas/` and `/member-ramps/`: CRUD, CSV import (all or nothing, errors with line and
column) and export, and every write path attacked (another workspace, roles, scopes, bad
input, two writes at once)."""

import csv
import io
import threading

import pytest
import requests
from django.core.files.uploadedfile import SimpleUploadedFile

from analytics.models import MemberRamp, Quota
from revorg.models import AuditEntry
from tests.analytics.factories import MemberRampFactory, QuotaFactory
from tests.factories import (
    MemberFactory,
    TerritoryFactory,
    TerritorySlotFactory,
    WorkspaceFactory,
    api_key_for,
)

URL = "/api/v1/quotas/"
Q1 = {"period_start": "2026-01-01", "period_end": "2026-03-31"}


def upload(text: str) -> dict:
    return {"file": SimpleUploadedFile("quotas.csv", text.encode(), content_type="text/csv")}


@pytest.mark.django_db
class TestQuotaCrud:
    def test_a_territory_quota_is_created_read_and_audited(self, api, workspace):
        territory = TerritoryFactory(workspace=workspace)
        response = api.post(
            URL, {"territory": territory.pk, **Q1, "amount": "120000.50"}, format="json"
        )
        assert response.status_code == 201, response.content
        body = response.json()
        assert body == {
            "id": body["id"], "territory": territory.pk, "member": None,
            "period_start": "2026-01-01", "period_end": "2026-03-31", "amount": "120000.50",
        }  # fmt: skip
        assert api.get(URL, {"territory": territory.pk}).json()["count"] == 1
        assert AuditEntry.objects.filter(workspace=workspace, action="create").exists()

    @pytest.mark.parametrize(
        "change, field",
        [
            ({"territory": None}, "territory"),  # neither owner
            ({"member": "MEMBER"}, "territory"),  # both owners
            ({"period_end": "2025-12-31"}, "period_end"),
            ({"period_start": "2026-13-01"}, "period_start"),
            ({"period_end": "9999-12-31"}, "period_end"),
            ({"amount": "-1"}, "amount"),
            ({"amount": "1e30"}, "amount"),
            ({"amount": "abc"}, "amount"),
        ],
    )
    def test_bad_input_is_a_400_naming_the_field(self, api, workspace, change, field):
        territory = TerritoryFactory(workspace=workspace)
        member = MemberFactory(workspace=workspace)
        body = {"territory": territory.pk, **Q1, "amount": "100", **change}
        if body.get("member") == "MEMBER":
            body["member"] = member.pk
        response = api.post(URL, body, format="json")
        assert response.status_code == 400
        assert field in response.json()
        assert not Quota.objects.exists()

    def test_a_second_quota_of_one_owner_and_period_is_a_400(self, api, workspace):
        territory = TerritoryFactory(workspace=workspace)
        assert (
            api.post(URL, {"territory": territory.pk, **Q1, "amount": 1}, format="json").status_code
            == 201
        )
        response = api.post(URL, {"territory": territory.pk, **Q1, "amount": 2}, format="json")
        assert response.status_code == 400 and "period_start" in response.json()
        assert Quota.objects.count() == 1

    def test_another_workspaces_quota_is_a_404_and_its_owner_a_400(self, api, other_workspace):
        theirs = QuotaFactory(
            workspace=other_workspace, member=MemberFactory(workspace=other_workspace), **Q1
        )
        for call in (api.get, api.delete):
            assert call(f"{URL}{theirs.pk}/").status_code == 404
        assert api.patch(f"{URL}{theirs.pk}/", {"amount": 1}, format="json").status_code == 404
        their_territory = TerritoryFactory(workspace=other_workspace)
        response = api.post(
            URL, {"territory": their_territory.pk, **Q1, "amount": 1}, format="json"
        )
        assert response.status_code == 400 and "territory" in response.json()
        assert api.get(URL).json()["count"] == 0
        assert Quota.objects.get(pk=theirs.pk).amount == 1000

    def test_a_read_key_and_a_rep_user_may_read_not_write(
        self, make_client, user_client, workspace
    ):
        territory = TerritoryFactory(workspace=workspace)
        body = {"territory": territory.pk, **Q1, "amount": 1}
        reader = make_client(workspace, scopes="read")
        assert reader.post(URL, body, format="json").status_code == 403
        assert reader.get(URL).status_code == 200
        rep = user_client(workspace, role="rep")
        assert rep.post(URL, body, format="json").status_code == 403
        boss = MemberFactory(workspace=workspace)  # a manager's scope: their team's territories
        TerritorySlotFactory(territory=territory, member=boss)
        manager = user_client(workspace, role="manager", member=boss)
        assert manager.post(URL, body, format="json").status_code == 201

    def test_a_ramp_takes_percentages_of_0_to_100_once_per_member(self, api, workspace):
        member = MemberFactory(workspace=workspace)
        url = "/api/v1/member-ramps/"
        for bad, field in (([101], "month_percentages"), ([], "month_percentages")):
            body = {"member": member.pk, "start_date": "2026-02-10", "month_percentages": bad}
            response = api.post(url, body, format="json")
            assert response.status_code == 400 and field in response.json()
        body = {"member": member.pk, "start_date": "2026-02-10", "month_percentages": [25, 50]}
        response = api.post(url, body, format="json")
        assert response.status_code == 201
        assert response.json()["ramp_months"] == 2
        again = api.post(url, body, format="json")
        assert again.status_code == 400 and "member" in again.json()

    def test_another_workspaces_ramp_is_a_404(self, api, other_workspace):
        theirs = MemberRampFactory(
            member=MemberFactory(workspace=other_workspace), start_date="2026-01-01"
        )
        assert api.get(f"/api/v1/member-ramps/{theirs.pk}/").status_code == 404
        assert api.delete(f"/api/v1/member-ramps/{theirs.pk}/").status_code == 404
        assert MemberRamp.objects.filter(pk=theirs.pk).exists()


@pytest.mark.django_db
class TestQuotaImport:
    def test_a_file_creates_and_updates_quotas_by_owner_and_period(self, api, workspace):
        west = TerritoryFactory(workspace=workspace, name="West")
        east = TerritoryFactory(workspace=workspace, name="East")
        ada = MemberFactory(workspace=workspace, email="ada@acme.com")
        QuotaFactory(workspace=workspace, territory=west, amount=5, **Q1)
        text = (
            "territory_id,territory,member_email,period_start,period_end,amount\n"
            f'{west.pk},,,2026-01-01,2026-03-31,"80,000"\n'
            ",east,,2026-01-01,2026-12-31,240000\n"
            ",,ADA@acme.com,2026-01-01,2026-03-31,50000.25\n"
        )
        response = api.post(f"{URL}import/", upload(text), format="multipart")
        assert response.status_code == 200, response.content
        body = response.json()
        assert (body["created"], body["updated"], body["dry_run"]) == (2, 1, False)
        assert Quota.objects.get(territory=west).amount == 80000
        assert Quota.objects.get(territory=east).period_end.isoformat() == "2026-12-31"
        assert str(Quota.objects.get(member=ada).amount) == "50000.25"

    def test_one_bad_row_refuses_the_file_with_line_and_column(self, api, workspace):
        west = TerritoryFactory(workspace=workspace, name="West")
        TerritoryFactory(workspace=workspace, name="Twin")
        TerritoryFactory(workspace=workspace, name="twin")
        text = (
            "territory_id,territory,member_email,period_start,period_end,amount\n"
            f"{west.pk},,,2026-01-01,2026-03-31,100\n"  # good
            ",Nowhere,,2026-01-01,2026-03-31,100\n"  # line 3: unknown territory
            ",,nobody@acme.com,2026-01-01,2026-03-31,100\n"  # line 4
            f"{west.pk},,,2026-04-01,2026-03-31,100\n"  # line 5: end before start
            f"{west.pk},,,2026-04-01,2026-06-31,100\n"  # line 6: no such date
            f"{west.pk},,,2026-07-01,2026-09-30,-3\n"  # line 7
            f"{west.pk},West,,2026-07-01,2026-09-30,3\n"  # line 8: two owners
            ",twin,,2026-07-01,2026-09-30,3\n"  # line 9: ambiguous name
            f"{west.pk},,,2026-01-01,2026-03-31,200\n"  # line 10: same as line 2
            f"{west.pk},,,2026-07-01,2026-09-30,1.001\n"  # line 11
        )
        response = api.post(f"{URL}import/", upload(text), format="multipart")
        assert response.status_code == 400
        errors = {(e["line"], e["column"]) for e in response.json()["errors"]}
        assert errors == {
            (3, "territory"),
            (4, "member_email"),
            (5, "period_end"),
            (6, "period_end"),
            (7, "amount"),
            (8, "territory"),
            (9, "territory"),
            (10, None),
            (11, "amount"),
        }
        assert not Quota.objects.exists()

    def test_header_problems_are_line_1_errors(self, api):
        response = api.post(f"{URL}import/", upload("territory,amount,colour\nx,1,red\n"))
        assert response.status_code == 400
        errors = {(e["line"], e["column"]) for e in response.json()["errors"]}
        assert {(1, "colour"), (1, "period_start"), (1, "period_end")} <= errors

    def test_a_dry_run_writes_nothing(self, api, workspace):
        west = TerritoryFactory(workspace=workspace)
        text = f"territory_id,period_start,period_end,amount\n{west.pk},2026-01-01,2026-03-31,1\n"
        response = api.post(f"{URL}import/?dry_run=1", upload(text), format="multipart")
        assert response.status_code == 200 and response.json()["created"] == 1
        assert not Quota.objects.exists()

    def test_another_workspaces_territory_is_unknown(self, api, other_workspace):
        theirs = TerritoryFactory(workspace=other_workspace)
        text = f"territory_id,period_start,period_end,amount\n{theirs.pk},2026-01-01,2026-03-31,1\n"
        response = api.post(f"{URL}import/", upload(text), format="multipart")
        assert response.status_code == 400
        assert response.json()["errors"][0]["column"] == "territory_id"
        assert not Quota.objects.exists()

    def test_a_viewer_may_not_import(self, user_client, workspace):
        west = TerritoryFactory(workspace=workspace)
        text = f"territory_id,period_start,period_end,amount\n{west.pk},2026-01-01,2026-03-31,1\n"
        response = user_client(workspace, role="viewer").post(
            f"{URL}import/", upload(text), format="multipart"
        )
        assert response.status_code == 403
        assert not Quota.objects.exists()

    def test_an_export_imports_back_unchanged(self, api, workspace):
        west = TerritoryFactory(workspace=workspace)
        ada = MemberFactory(workspace=workspace)
        QuotaFactory(workspace=workspace, territory=west, amount="10.50", **Q1)
        QuotaFactory(workspace=workspace, member=ada, amount=7, **Q1)
        exported = b"".join(api.get(f"{URL}export/").streaming_content).decode()
        rows = list(csv.DictReader(io.StringIO(exported)))
        assert [(r["territory_id"], r["member_email"], r["amount"]) for r in rows] == [
            (str(west.pk), "", "10.50"),
            ("", ada.email, "7.00"),
        ]
        again = api.post(f"{URL}import/", upload(exported), format="multipart")
        assert again.status_code == 200, again.content
        assert (again.json()["created"], again.json()["updated"]) == (0, 2)
        assert Quota.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_creates_of_one_quota_make_one(live_server):
    """Real parallel requests: one 201, the other a 400 naming the field, one row."""
    workspace = WorkspaceFactory()
    territory = TerritoryFactory(workspace=workspace)
    key = api_key_for(workspace)
    barrier = threading.Barrier(4)
    answers = []

    def create():
        barrier.wait()
        response = requests.post(
            f"{live_server.url}{URL}",
            headers={"Authorization": f"Bearer {key}"},
            json={"territory": territory.pk, **Q1, "amount": "10"},
            timeout=60,
        )
        answers.append((response.status_code, response.json()))

    threads = [threading.Thread(target=create) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(status for status, _ in answers) == [201, 400, 400, 400]
    assert all("period_start" in body for status, body in answers if status == 400)
    assert Quota.objects.filter(workspace=workspace).count() == 1
