"""The book's pages: accounts with filters and upload, an account with its owner's reason and
history, coverage with drill-down links and CSV export; roles and tenancy."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from jobs.models import Job
from tests.book.factories import AccountFactory
from tests.book.helpers import reevaluate, us_territory

pytestmark = pytest.mark.django_db


@pytest.fixture
def assigned(workspace, django_capture_on_commit_callbacks):
    territory, reps = us_territory(workspace, reps=1)
    account = AccountFactory(workspace=workspace, name="Acme", crm_id="A1")
    AccountFactory(workspace=workspace, name="=HYPERLINK()", fields={"country": "=cmd"})
    reevaluate(workspace, django_capture_on_commit_callbacks)
    return account, territory, reps[0]


def test_accounts_page_lists_and_filters(user_client, workspace, assigned):
    client = user_client(workspace, role="viewer")
    body = client.get("/accounts/").content.decode()
    assert "Acme" in body and "=HYPERLINK()" in body
    assert "Import accounts" not in body  # uploads are for admins
    filtered = client.get("/accounts/", {"status": "orphaned"}).content.decode()
    assert "Acme" not in filtered and "=HYPERLINK()" in filtered


def test_account_page_shows_owner_with_reason_and_history(user_client, workspace, assigned):
    account, territory, rep = assigned
    body = user_client(workspace, role="viewer").get(f"/accounts/{account.pk}/").content.decode()
    assert rep.name in body
    assert "round_robin turn 1 of 1" in body
    assert territory.name in body
    assert "current" in body


def test_another_workspaces_account_is_a_404(user_client, other_workspace, assigned):
    account, _, _ = assigned
    assert user_client(other_workspace).get(f"/accounts/{account.pk}/").status_code == 404


def test_coverage_page_and_csv_export(user_client, workspace, assigned):
    client = user_client(workspace, role="viewer")
    body = client.get("/coverage/").content.decode()
    assert "/accounts/?status=orphaned" in body
    exported = client.get("/coverage/", {"format": "csv"})
    assert exported["Content-Type"] == "text/csv"
    lines = exported.content.decode().splitlines()
    assert lines[0] == "country,state,industry,size_band,accounts,open_pipeline"
    assert lines[1].startswith("'=cmd,")  # a formula-looking cell is defused


def test_admin_uploads_a_csv_and_lands_on_the_job_page(
    user_client, workspace, django_capture_on_commit_callbacks
):
    client = user_client(workspace)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/accounts/import/accounts/",
            {"file": SimpleUploadedFile("a.csv", b"crm_id,name,country\nA9,Nine,US\n,x,US\n")},
        )
    job = Job.objects.get(kind="import")
    assert response.status_code == 302
    assert response["Location"] == f"/jobs/{job.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert 'data-status="succeeded"' in page
    assert "every 1s" not in page  # finished: no more polling
    assert "required" in page  # the bad row's error, with its line


def test_a_bad_upload_is_a_message_not_a_job(user_client, workspace):
    client = user_client(workspace)
    response = client.post(
        "/accounts/import/accounts/",
        {"file": SimpleUploadedFile("a.csv", b"name\nx\n")},
        follow=True,
    )
    assert "crm_id (or id)" in response.content.decode()
    assert not Job.objects.exists()


def test_viewers_cannot_upload_or_reevaluate(user_client, workspace):
    client = user_client(workspace, role="viewer")
    upload = client.post(
        "/accounts/import/accounts/", {"file": SimpleUploadedFile("a.csv", b"crm_id\nA\n")}
    )
    assert upload.status_code == 403
    assert client.post("/accounts/reevaluate/").status_code == 403


def test_reevaluate_button_queues_a_job(user_client, workspace, assigned):
    client = user_client(workspace)
    assert "Re-evaluate book" in client.get("/accounts/").content.decode()
    response = client.post("/accounts/reevaluate/")
    job = Job.objects.filter(kind="reevaluate").latest("id")
    assert response["Location"] == f"/jobs/{job.pk}/"


def test_the_dashboard_card_sums_up_coverage_and_links_to_the_report(user_client, workspace):
    client = user_client(workspace, role="viewer")
    assert "No book yet" in client.get("/").content.decode()  # an empty state that says how

    territory, _ = us_territory(workspace, reps=0)  # nobody to own its accounts: vacant
    AccountFactory(workspace=workspace, territory=territory, status="vacant")
    AccountFactory.create_batch(2, workspace=workspace, status="orphaned")
    body = client.get("/").content.decode()
    assert 'data-testid="coverage-orphaned">2<' in body
    assert 'data-testid="coverage-vacant">1<' in body
    assert "of 3 accounts orphaned" in body
    assert 'href="/accounts/?status=orphaned"' in body and 'href="/coverage/"' in body
