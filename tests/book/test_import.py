"""CSV imports through the API (multipart field `file`, write scope → 202 with the job): good
rows land (upsert by crm_id), bad rows are reported with line and column and skipped whole,
owner_email names a member, the book is re-evaluated afterwards."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from book.models import Account, Opportunity
from jobs.models import Job
from tests.book.factories import AccountFactory
from tests.book.helpers import us_territory
from tests.factories import MemberFactory, TerritorySlotFactory

pytestmark = pytest.mark.django_db


def _upload(client, path, text, capture, name="book.csv"):
    with capture(execute=True):
        response = client.post(
            path,
            {"file": SimpleUploadedFile(name, text.encode(), content_type="text/csv")},
            format="multipart",
        )
    return response


def _job(response) -> Job:
    assert response.status_code == 202, response.content
    return Job.objects.get(pk=response.json()["id"])


ACCOUNTS = (
    "crm_id,name,domain,country,state,industry,employees,owner_email\n"
    "A1,Acme,ACME.com,US,CA,Software,120,ada@example.com\n"
    "A2,Bolt,bolt.io,US,NY,Retail,lots,\n"
    ",Nameless,none.io,US,,,,\n"
    "A3,Cog,cog.io,US,TX,Energy,5000,nobody@example.com\n"
    '"A4","Dyn, Inc","dyn.io","FR","","Health","12",""\n'
    "A1,Acme again,acme.com,US,CA,Software,130,\n"
)


def test_accounts_import_lands_good_rows_and_reports_bad_ones(
    api, workspace, django_capture_on_commit_callbacks
):
    ada = MemberFactory(workspace=workspace, email="Ada@example.com")
    territory, _ = us_territory(workspace)
    TerritorySlotFactory(territory=territory, member=ada, position=9)

    response = _upload(
        api, "/api/v1/accounts/import/", ACCOUNTS, django_capture_on_commit_callbacks
    )

    job = _job(response)
    assert response.json()["kind"] == "import"
    assert job.status == "succeeded"
    assert job.result["imported"] == 2
    assert job.errors == [
        {"line": 3, "column": "employees", "message": "'lots' is not a number"},
        {"line": 4, "column": "id", "message": "required"},
        {
            "line": 5,
            "column": "owner_email",
            "message": "no member has the email nobody@example.com",
        },
        {"line": 7, "column": "crm_id", "message": "A1 is repeated (first on line 2); row skipped"},
    ]
    acme = Account.objects.get(crm_id="A1")
    assert (acme.name, acme.domain, acme.owner) == ("Acme", "acme.com", ada)
    assert acme.fields == {
        "country": "US",
        "state": "CA",
        "industry": "Software",
        "employees": 120,
        "domain": "acme.com",
    }
    assert Account.objects.get(crm_id="A4").name == "Dyn, Inc"
    assert not Account.objects.filter(crm_id__in=["A2", "A3"]).exists()
    # The book was re-evaluated after the import: the imported US account is assigned.
    reevaluation = Job.objects.get(kind="reevaluate")
    assert reevaluation.status == "succeeded"
    acme.refresh_from_db()
    assert (acme.status, Account.objects.get(crm_id="A4").status) == ("assigned", "orphaned")
    assert acme.owner == ada  # the uploaded owner is an eligible primary: sticky
    assert api.get(f"/api/v1/jobs/{job.pk}/").json()["errors"][0]["line"] == 3


def test_a_second_import_updates_accounts_by_crm_id(
    api, workspace, django_capture_on_commit_callbacks
):
    existing = AccountFactory(
        workspace=workspace, crm_id="A1", name="Old", fields={"country": "FR"}
    )

    _job(_upload(api, "/api/v1/accounts/import/", "id,name,country\nA1,New,DE\nA2,Other,US\n",
                 django_capture_on_commit_callbacks))  # fmt: skip

    existing.refresh_from_db()
    assert (existing.name, existing.fields) == ("New", {"country": "DE"})
    assert Account.objects.filter(workspace=workspace).count() == 2


def test_opportunities_import(api, workspace, django_capture_on_commit_callbacks):
    account = AccountFactory(workspace=workspace, crm_id="A1")
    rep = MemberFactory(workspace=workspace, email="rep@example.com")
    text = (
        "crm_id,account_crm_id,name,owner_email,stage,probability,amount,close_date,is_closed,"
        "is_won,created_date\n"
        "O1,A1,Big deal,rep@example.com,Proposal,60,12000.50,2026-12-31,false,false,2026-10-01\n"
        "O2,A9,Lost,rep@example.com,Closed Lost,0,10,2026-01-01,true,false,2025-12-01\n"
        "O3,A1,Odd,,Won,150,10,2026-01-01,true,true,2025-12-01\n"
        "O4,A1,Won,,Closed Won,100,5000,2026-02-30,true,true,\n"
        "O5,A1,Won,,Closed Won,100,5000,2026-02-03,yes,maybe,\n"
        "O6,A1,Done,,Closed Won,100,700,2026-02-03,1,1,\n"
    )

    job = _job(
        _upload(api, "/api/v1/opportunities/import/", text, django_capture_on_commit_callbacks)
    )

    assert job.status == "succeeded"
    assert [(e["line"], e["column"]) for e in job.errors] == [
        (3, "account_crm_id"),
        (4, "probability"),
        (5, "close_date"),
        (6, "is_won"),
    ]
    big = Opportunity.objects.get(crm_id="O1")
    assert (big.account, big.owner, str(big.amount), big.probability) == (
        account,
        rep,
        "12000.50",
        60,
    )
    assert not big.is_closed and big.closed_date is None
    done = Opportunity.objects.get(crm_id="O6")
    assert done.is_closed and done.is_won and str(done.closed_date) == "2026-02-03"
    listed = api.get("/api/v1/opportunities/", {"account": account.pk, "is_closed": "true"}).json()
    assert [o["crm_id"] for o in listed["results"]] == ["O6"]


@pytest.mark.parametrize(
    ("text", "field", "message"),
    [
        ("name,domain\nAcme,acme.com\n", "file", "crm_id (or id)"),
        ("", "file", "empty"),
    ],
)
def test_an_unusable_file_is_a_400_naming_file(api, text, field, message):
    response = api.post(
        "/api/v1/accounts/import/",
        {"file": SimpleUploadedFile("x.csv", text.encode())},
        format="multipart",
    )
    assert response.status_code == 400
    assert message in response.json()[field][0]
    assert not Job.objects.exists()


def test_a_missing_file_or_binary_is_a_400(api):
    assert api.post("/api/v1/accounts/import/", {}, format="multipart").json() == {
        "file": ["attach the CSV file as the multipart field 'file'"]
    }
    binary = api.post(
        "/api/v1/opportunities/import/",
        {"file": SimpleUploadedFile("x.csv", b"\xff\xfe\x00crm_id")},
        format="multipart",
    )
    assert binary.status_code == 400
    assert binary.json() == {"file": ["the file is not UTF-8 text"]}
    missing = api.post(
        "/api/v1/opportunities/import/",
        {"file": SimpleUploadedFile("x.csv", b"crm_id,name\n")},
        format="multipart",
    )
    assert missing.json() == {"file": ["the header lacks column(s): account_crm_id"]}


def test_a_file_over_the_limit_is_a_413(api, settings):
    settings.BOOK_IMPORT_MAX_BYTES = 100
    text = "crm_id,name\n" + "".join(f"A{i},Name {i}\n" for i in range(20))
    response = api.post(
        "/api/v1/accounts/import/",
        {"file": SimpleUploadedFile("big.csv", text.encode())},
        format="multipart",
    )
    assert response.status_code == 413
    assert "limit is 100 bytes" in response.json()["detail"]


def test_a_read_only_key_cannot_import(make_client, workspace):
    reader = make_client(workspace, scopes="read")
    response = reader.post(
        "/api/v1/accounts/import/",
        {"file": SimpleUploadedFile("x.csv", b"crm_id\nA1\n")},
        format="multipart",
    )
    assert response.status_code == 403
    assert not Job.objects.exists()
