"""CSV in and out in headless Chromium: a file with a bad row imports nothing and says where;
the fixed file imports after its preview; an export downloads what the page shows."""

import csv
import io
import json
import re

import pytest
from playwright.sync_api import expect

from members.models import Member
from tests.factories import MemberFactory, MembershipFactory, active_plan

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "pw-for-tests-1"

BAD = b"""name,email,timezone,primary
Ada Park,ada@acme.com,Europe/Paris,
Lin Chu,lin@acme,America/New_York,
"""
GOOD = b"""name,email,timezone,role
Ada Park,ada@acme.com,Europe/Paris,AE
Lin Chu,lin@acme.com,America/New_York,manager
"""


@pytest.fixture
def admin(workspace):
    return MembershipFactory(workspace=workspace, role="admin").user


def csv_upload(name: str, content: bytes) -> dict:
    return {"name": name, "mimeType": "text/csv", "buffer": content}


def test_a_bad_row_imports_nothing_then_the_fixed_file_imports(page, login, shot, workspace, admin):
    login(admin.username, PASSWORD)
    page.click("nav >> text=Members")
    page.click("[data-testid=import-csv]")

    page.set_input_files("input[name=file]", csv_upload("bad.csv", BAD))
    page.click("[data-testid=import-form] button")
    errors = page.locator("[data-testid=import-errors]")
    errors.wait_for()
    shot("csv-import-errors")
    text = errors.inner_text()
    assert "nothing was imported" in text
    assert "1\tprimary\tunknown column" in text
    assert not Member.objects.filter(workspace=workspace).exists()

    page.set_input_files(
        "input[name=file]",
        csv_upload(
            "bad.csv",
            BAD.replace(b",primary", b"")
            .replace(b"Paris,\n", b"Paris\n")
            .replace(b"York,\n", b"York\n"),
        ),
    )
    page.click("[data-testid=import-form] button")
    errors.wait_for()
    assert "3\temail\tEnter a valid email address." in errors.inner_text()
    assert not Member.objects.filter(workspace=workspace).exists()

    page.set_input_files("input[name=file]", csv_upload("good.csv", GOOD))
    page.click("[data-testid=import-form] button")
    preview = page.locator("[data-testid=import-preview]")
    preview.wait_for()
    shot("csv-import-preview")
    assert "ada@acme.com" in preview.inner_text() and "lin@acme.com" in preview.inner_text()
    assert not Member.objects.filter(workspace=workspace).exists()

    page.click("[data-testid=import-confirm]")
    page.wait_for_url("**/members/")
    shot("csv-import-done")
    assert "Imported: 2 created, 0 updated." in page.inner_text(".messages")
    table = page.inner_text("#member-table")
    assert "Ada Park" in table and "Lin Chu" in table
    assert Member.objects.get(workspace=workspace, email="lin@acme.com").timezone == (
        "America/New_York"
    )


def test_an_export_downloads_the_filtered_list(page, login, shot, workspace, admin, tmp_path):
    MemberFactory(workspace=workspace, name="Ada Park", email="ada@acme.com", title="=1+1")
    MemberFactory(workspace=workspace, name="Adam Smith", email="adam@acme.com")
    MemberFactory(workspace=workspace, name="Bob Lee", email="bob@acme.com")
    login(admin.username, PASSWORD)
    page.goto("/members/")  # waits for the page's scripts (HTMX) before typing
    page.fill("input[name=q]", "ada")
    expect(page).to_have_url(re.compile(r"/members/\?q=ada"), timeout=10_000)
    expect(page.locator("#member-table")).not_to_contain_text("Bob Lee")
    shot("csv-export-members")

    with page.expect_download() as download_info:
        page.click("[data-testid=export-csv]")
    download = download_info.value
    assert download.suggested_filename == "members.csv"
    path = tmp_path / "members.csv"
    download.save_as(path)

    with path.open(newline="", encoding="utf-8") as exported:
        reader = csv.DictReader(exported)
        rows = list(reader)
    assert reader.fieldnames[:3] == ["id", "name", "email"]
    assert [(r["name"], r["email"]) for r in rows] == [
        ("Ada Park", "ada@acme.com"),
        ("Adam Smith", "adam@acme.com"),
    ]
    assert rows[0]["title"] == "'=1+1"


def test_territories_export_from_the_territories_page(page, login, shot, workspace, admin):
    from tests.factories import TerritoryFactory

    active_plan(workspace)
    TerritoryFactory(
        workspace=workspace, name="France", rule={"field": "country", "op": "eq", "value": "FR"}
    )
    login(admin.username, PASSWORD)
    page.click("nav >> text=Territories")
    shot("csv-territories-page")

    with page.expect_download() as download_info:
        page.click("[data-testid=export-csv]")
    content = download_info.value.path().read_text(encoding="utf-8")

    [row] = list(csv.DictReader(io.StringIO(content)))
    assert row["name"] == "France"
    assert json.loads(row["rule"]) == {"field": "country", "op": "eq", "value": "FR"}


def test_a_file_over_the_limit_is_refused_before_upload(page, login, workspace, admin, settings):
    settings.CSV_IMPORT_MAX_BYTES = 64
    login(admin.username, PASSWORD)
    page.goto("/members/import/")

    page.set_input_files("input[name=file]", csv_upload("big.csv", GOOD))
    page.click("[data-testid=import-form] button")

    message = page.locator("input[name=file]").evaluate("input => input.validationMessage")
    assert "the limit is 64 bytes" in message
    assert page.locator("[data-testid=import-preview]").count() == 0
    assert not Member.objects.filter(workspace=workspace).exists()
