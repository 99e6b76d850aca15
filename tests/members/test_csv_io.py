"""Members in and out as CSV through the API: preview, all or nothing, row errors, export."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from members.models import Member
from revorg.models import AuditEntry
from tests.factories import MemberFactory

IMPORT_URL = "/api/v1/members/import/"
EXPORT_URL = "/api/v1/members/export/"


def upload(text: str, name: str = "members.csv") -> dict:
    return {"file": SimpleUploadedFile(name, text.encode(), content_type="text/csv")}


def read_csv(response) -> list[dict]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


GOOD = """name,email,title,role,timezone,is_active,manager_email,metadata
Ada Park,ada@acme.com,AE,AE,Europe/Paris,true,lin@acme.com,"{""languages"": [""en"", ""fr""]}"
Lin Chu,lin@acme.com,Head of sales,manager,America/New_York,yes,,
"""


@pytest.mark.django_db
class TestImport:
    def test_creates_members_with_their_manager_from_the_same_file(self, api, workspace):
        response = api.post(IMPORT_URL, upload(GOOD), format="multipart")

        assert response.status_code == 200, response.content
        body = response.json()
        assert body["dry_run"] is False
        assert (body["created"], body["updated"], body["errors"]) == (2, 0, [])
        ada = Member.objects.get(workspace=workspace, email="ada@acme.com")
        assert ada.timezone == "Europe/Paris"
        assert ada.metadata == {"languages": ["en", "fr"]}
        assert ada.manager.email == "lin@acme.com"
        assert (
            AuditEntry.objects.filter(
                workspace=workspace, object_type="members.member", action="create"
            ).count()
            == 2
        )

    def test_updates_a_member_matched_on_email_keeping_columns_the_file_lacks(self, api, workspace):
        member = MemberFactory(
            workspace=workspace, email="Ada@Acme.com", title="SDR", timezone="Asia/Tokyo"
        )
        text = "email,title\nada@acme.com,Senior AE\n"

        body = api.post(IMPORT_URL, upload(text), format="multipart").json()

        assert (body["created"], body["updated"]) == (0, 1)
        member.refresh_from_db()
        assert (member.title, member.timezone) == ("Senior AE", "Asia/Tokyo")
        entry = AuditEntry.objects.get(workspace=workspace, action="update")
        assert (entry.before["title"], entry.after["title"]) == ("SDR", "Senior AE")

    def test_dry_run_previews_and_writes_nothing(self, api, workspace):
        MemberFactory(workspace=workspace, email="lin@acme.com")

        response = api.post(IMPORT_URL + "?dry_run=1", upload(GOOD), format="multipart")

        assert response.status_code == 200
        body = response.json()
        assert body["dry_run"] is True
        assert [(r["line"], r["action"], r["key"]) for r in body["rows"]] == [
            (2, "create", "ada@acme.com"),
            (3, "update", "lin@acme.com"),
        ]
        assert Member.objects.filter(workspace=workspace).count() == 1
        # (the API key the fixture made is audited; no member entry is)
        entries = AuditEntry.objects.filter(workspace=workspace, object_type="members.member")
        assert not entries.exists()

    def test_one_bad_row_refuses_the_whole_file_with_line_and_column(self, api, workspace):
        text = (
            "name,email,timezone,is_active\n"
            "Ada,ada@acme.com,UTC,true\n"
            "Bob,bob@acme.com,Mars/Olympus,true\n"
            "Cy,not-an-email,UTC,maybe\n"
        )

        response = api.post(IMPORT_URL, upload(text), format="multipart")

        assert response.status_code == 400
        body = response.json()
        assert "nothing imported" in body["file"][0]
        located = {(e["line"], e["column"]) for e in body["errors"]}
        assert located == {(3, "timezone"), (4, "email"), (4, "is_active")}
        assert not Member.objects.filter(workspace=workspace).exists()

    def test_unknown_and_missing_columns_are_header_errors(self, api):
        response = api.post(IMPORT_URL, upload("name,mail\nAda,ada@acme.com\n"), format="multipart")

        assert response.status_code == 400
        errors = response.json()["errors"]
        assert {(e["line"], e["column"]) for e in errors} == {(1, "mail"), (1, "email")}

    def test_the_same_email_twice_and_a_manager_cycle_are_refused(self, api, workspace):
        text = (
            "name,email,manager_email\n"
            "Ada,ada@acme.com,lin@acme.com\n"
            "Lin,lin@acme.com,ada@acme.com\n"
            "Ada again,ADA@acme.com,\n"
        )

        errors = api.post(IMPORT_URL, upload(text), format="multipart").json()["errors"]

        assert {(e["line"], e["column"]) for e in errors} == {
            (2, "manager_email"),
            (3, "manager_email"),
            (4, "email"),
        }
        assert not Member.objects.filter(workspace=workspace).exists()

    def test_a_file_that_is_not_csv_text_is_a_400_naming_file(self, api):
        response = api.post(
            IMPORT_URL,
            {"file": SimpleUploadedFile("x.csv", b"\xff\xfe\x00bin", content_type="text/csv")},
            format="multipart",
        )

        assert response.status_code == 400
        assert "file" in response.json()

    def test_no_file_is_a_400_naming_file(self, api):
        response = api.post(IMPORT_URL, {}, format="multipart")

        assert response.status_code == 400
        assert "file" in response.json()

    def test_a_dry_run_flag_that_is_not_a_boolean_is_a_400_naming_it(self, api, workspace):
        response = api.post(IMPORT_URL + "?dry_run=perhaps", upload(GOOD), format="multipart")

        assert response.status_code == 400
        assert "dry_run" in response.json()
        assert not Member.objects.filter(workspace=workspace).exists()

    def test_a_json_body_is_refused_as_unsupported(self, api):
        response = api.post(IMPORT_URL, {"file": "name,email"}, format="json")

        assert response.status_code == 415

    @override_settings(CSV_IMPORT_MAX_BYTES=200)
    def test_a_file_over_the_size_limit_is_a_413(self, api, workspace):
        text = "name,email\n" + "".join(f"Rep {i},rep{i}@acme.com\n" for i in range(20))

        response = api.post(IMPORT_URL, upload(text), format="multipart")

        assert response.status_code == 413
        assert "limit" in response.json()["file"][0]
        assert not Member.objects.filter(workspace=workspace).exists()

    def test_a_body_over_the_request_limit_is_a_413_before_parsing(self, api, settings):
        settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
        text = "name,email\n" + "".join(f"Rep {i},rep{i}@acme.com\n" for i in range(200))

        response = api.post(IMPORT_URL, upload(text), format="multipart")

        assert response.status_code == 413

    @override_settings(CSV_IMPORT_MAX_ROWS=3)
    def test_a_file_over_the_row_limit_is_a_400(self, api, workspace):
        text = "name,email\n" + "".join(f"Rep {i},rep{i}@acme.com\n" for i in range(4))

        response = api.post(IMPORT_URL, upload(text), format="multipart")

        assert response.status_code == 400
        assert "more than 3 rows" in response.json()["file"][0]
        assert not Member.objects.filter(workspace=workspace).exists()

    def test_a_read_only_key_is_refused(self, make_client, workspace):
        reader = make_client(workspace, scopes="read")

        response = reader.post(IMPORT_URL, upload(GOOD), format="multipart")

        assert response.status_code == 403
        assert not Member.objects.filter(workspace=workspace).exists()

    def test_a_manager_user_is_refused_an_admin_may(self, user_client, workspace):
        manager = user_client(workspace, role="manager")
        admin = user_client(workspace, role="admin")

        assert manager.post(IMPORT_URL, upload(GOOD), format="multipart").status_code == 403
        assert admin.post(IMPORT_URL, upload(GOOD), format="multipart").status_code == 200

    def test_another_workspace_is_neither_read_nor_written(self, api, workspace, other_workspace):
        theirs = MemberFactory(workspace=other_workspace, email="ada@acme.com", title="Theirs")
        boss = MemberFactory(workspace=other_workspace, email="boss@acme.com")

        refused = api.post(
            IMPORT_URL,
            upload("name,email,manager_email\nAda,ada@acme.com,boss@acme.com\n"),
            format="multipart",
        )
        created = api.post(IMPORT_URL, upload("name,email\nAda,ada@acme.com\n"), format="multipart")

        assert refused.status_code == 400
        assert refused.json()["errors"][0]["column"] == "manager_email"
        assert created.json()["created"] == 1
        theirs.refresh_from_db()
        assert theirs.title == "Theirs"
        assert boss.reports.count() == 0


@pytest.mark.django_db
class TestExport:
    def test_columns_rows_and_filters(self, api, workspace, other_workspace):
        lead = MemberFactory(workspace=workspace, name="Lin", email="lin@acme.com")
        MemberFactory(
            workspace=workspace,
            name="Ada",
            email="ada@acme.com",
            manager=lead,
            metadata={"languages": ["fr"]},
        )
        MemberFactory(workspace=workspace, name="Gone", is_active=False)
        MemberFactory(workspace=other_workspace, name="Not ours")

        response = api.get(EXPORT_URL, {"is_active": "true"})

        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/csv")
        assert 'filename="members.csv"' in response["Content-Disposition"]
        rows = read_csv(response)
        assert [r["name"] for r in rows] == ["Ada", "Lin"]
        assert rows[0]["manager_email"] == "lin@acme.com"
        assert rows[0]["metadata"] == '{"languages":["fr"]}'
        assert rows[0]["is_active"] == "true"

    def test_formula_cells_are_neutralised_and_import_back_unchanged(self, api, workspace):
        MemberFactory(workspace=workspace, name="=HYPERLINK(1)", email="x@acme.com", title="@SUM")

        rows = read_csv(api.get(EXPORT_URL))

        assert rows[0]["name"] == "'=HYPERLINK(1)"
        assert rows[0]["title"] == "'@SUM"

    def test_an_export_imports_back_as_updates_that_change_nothing(self, api, workspace):
        MemberFactory(workspace=workspace, name="-Ada", email="ada@acme.com", role="AE")
        before = list(Member.objects.filter(workspace=workspace).values())
        exported = b"".join(api.get(EXPORT_URL).streaming_content).decode()

        body = api.post(IMPORT_URL, upload(exported), format="multipart").json()

        assert (body["created"], body["updated"]) == (0, 1)
        after = list(Member.objects.filter(workspace=workspace).values())
        for row in (*before, *after):
            row.pop("updated_at")
        assert after == before

    def test_a_viewer_may_export(self, user_client, workspace):
        MemberFactory(workspace=workspace, name="Ada")

        response = user_client(workspace, role="viewer").get(EXPORT_URL)

        assert response.status_code == 200
        assert [r["name"] for r in read_csv(response)] == ["Ada"]


@pytest.mark.django_db(transaction=True)
def test_parallel_uploads_of_one_file_make_one_set_of_members(live_server):
    """Four simultaneous imports of one file through real HTTP: one creates, the others find
    the members it wrote and update them; no member is created twice."""
    import threading

    import requests

    from tests.factories import WorkspaceFactory, api_key_for

    workspace = WorkspaceFactory()
    key = api_key_for(workspace)
    text = "name,email\n" + "".join(f"Rep {i},rep{i}@acme.com\n" for i in range(40))
    barrier = threading.Barrier(4)
    answers = []

    def upload_once():
        barrier.wait()
        response = requests.post(
            f"{live_server.url}{IMPORT_URL}",
            headers={"Authorization": f"Bearer {key}"},
            files={"file": ("m.csv", text.encode(), "text/csv")},
            timeout=60,
        )
        answers.append((response.status_code, response.json()))

    threads = [threading.Thread(target=upload_once) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [status for status, _ in answers] == [200] * 4
    assert sorted((body["created"], body["updated"]) for _, body in answers) == [
        (0, 40),
        (0, 40),
        (0, 40),
        (40, 0),
    ]
    assert Member.objects.filter(workspace=workspace).count() == 40
