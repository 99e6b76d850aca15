"""The book from Salesforce through the real simple-salesforce against the local fake: SOQL
paging for small objects, a Bulk API 2.0 query job (CSV pages, Sforce-Locator) for large
ones, incremental by SystemModstamp, deletions on a full sync, the field mapping, 429/5xx and
an expired session mid-import, and a failed sync resumed from its last page."""

import pytest

from book.models import Account, Opportunity
from crm_sync.tasks import sync_scheduled
from jobs.models import Job
from tests.book.helpers import us_territory

from .test_sync_salesforce import salesforce

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def jobs_inline(settings):
    settings.JOBS_EAGER_MODE = "inline"
    settings.CRM_BOOK_BACKOFF_SECONDS = 0.01


def account(n, *, country="US", owner="005A", stamp="2026-11-01T10:00:00.000+0000", **extra):
    return {
        "Id": f"001{n:05d}",
        "Name": f"Account {n}",
        "OwnerId": owner,
        "BillingCountry": country,
        "BillingState": "CA",
        "BillingPostalCode": "94105",
        "BillingCity": "San Francisco",
        "Industry": "Software",
        "NumberOfEmployees": 120 + n,
        "AnnualRevenue": 5000000.0,
        "Website": f"https://www.Account{n}.example/about",
        "SystemModstamp": stamp,
        **extra,
    }


def opportunity(n, account_n, *, closed=False):
    return {
        "Id": f"006{n:05d}",
        "AccountId": f"001{account_n:05d}",
        "Name": f"Deal {n}",
        "OwnerId": "005A",
        "StageName": "Closed Won" if closed else "Prospecting",
        "Probability": 100 if closed else 20,
        "Amount": 12500.5,
        "CloseDate": "2026-12-15",
        "IsClosed": closed,
        "IsWon": closed,
        "CreatedDate": "2026-10-01T09:00:00.000+0000",
        "SystemModstamp": "2026-11-01T10:00:00.000+0000",
    }


def sync_book(api, connection, capture, **body) -> Job:
    with capture(execute=True):
        response = api.post(
            f"/api/v1/crm-connections/{connection.pk}/sync-book/", body, format="json"
        )
    assert response.status_code == 202, response.content
    assert response.json()["kind"] == "sync"
    return Job.objects.get(pk=response.json()["id"])


def test_first_sync_pages_accounts_and_opportunities_maps_fields_and_queues_reevaluation(
    api, workspace, fake_sf, django_capture_on_commit_callbacks
):
    _, (rep,) = us_territory(workspace, reps=1)
    rep.crm_provider, rep.crm_user_id = "salesforce", "005A"
    rep.save()
    fake_sf.accounts = [account(1), account(2), account(3, country="FR", owner="005Z")]
    fake_sf.opportunities = [opportunity(1, 1), opportunity(2, 3, closed=True), opportunity(3, 9)]
    connection = salesforce(workspace, fake_sf)

    job = sync_book(api, connection, django_capture_on_commit_callbacks)

    body = api.get(f"/api/v1/jobs/{job.pk}/").json()
    assert body["status"] == "succeeded", body["errors"]
    assert body["progress"] == {"done": 6, "total": 6}
    assert body["result"]["accounts_created"] == 3
    assert body["result"]["opportunities_written"] == 2
    assert body["result"]["opportunities_without_account"] == 1  # its account is not in the CRM
    assert body["result"]["new_accounts_uncovered"] == 1  # FR: no territory covers it
    assert fake_sf.bulk_jobs == {}  # small objects: SOQL paging (2 a page)
    first = Account.objects.get(crm_id="00100001")
    assert (first.crm_provider, first.name, first.domain) == (
        "salesforce",
        "Account 1",
        "account1.example",
    )
    assert first.fields == {
        "country": "US",
        "state": "CA",
        "postal_code": "94105",
        "city": "San Francisco",
        "industry": "Software",
        "employees": 121,
        "annual_revenue": 5000000,
        "domain": "account1.example",
    }
    assert (first.crm_owner_id, first.owner_id) == ("005A", rep.pk)
    third = Account.objects.get(crm_id="00100003")
    assert (third.crm_owner_id, third.owner_id) == ("005Z", None)  # no member has that user
    deal = Opportunity.objects.get(crm_id="00600002")
    assert (deal.account_id, deal.is_closed, deal.is_won, str(deal.amount)) == (
        third.pk,
        True,
        True,
        "12500.50",
    )
    assert deal.owner_id == rep.pk
    # The book app's trigger queued (and, inline, ran) a re-evaluation of the new accounts.
    reevaluation = Job.objects.get(handler="book.reevaluate")
    assert reevaluation.created_by == f"after sync job {job.pk}"
    assert Account.objects.filter(status="assigned").count() == 2


def test_incremental_sync_reads_changes_only_and_a_full_sync_removes_deleted_accounts(
    api, workspace, fake_sf, django_capture_on_commit_callbacks
):
    fake_sf.accounts = [account(1), account(2), account(3)]
    connection = salesforce(workspace, fake_sf)
    assert sync_book(api, connection, django_capture_on_commit_callbacks).status == "succeeded"

    fake_sf.accounts[1] = account(2, country="DE", stamp="2026-11-02T08:00:00.000+0000")
    del fake_sf.accounts[2]  # deleted in Salesforce
    job = sync_book(api, connection, django_capture_on_commit_callbacks)
    job.refresh_from_db()
    assert job.status == "succeeded", job.errors
    assert any(
        "FROM Account WHERE SystemModstamp > 2026-11-01T10:00:00Z" in q for q in fake_sf.queries
    )
    assert (job.result["accounts_updated"], job.result["accounts_removed"]) == (1, 0)
    assert Account.objects.get(crm_id="00100002").fields["country"] == "DE"
    assert Account.objects.count() == 3  # an increment cannot see deletions

    job = sync_book(api, connection, django_capture_on_commit_callbacks, full=True)
    job.refresh_from_db()
    assert job.result["accounts_removed"] == 1
    assert sorted(Account.objects.values_list("crm_id", flat=True)) == ["00100001", "00100002"]


def test_a_full_sync_removes_deleted_opportunities_and_a_closed_deal_keeps_its_territory(
    api, workspace, fake_sf, django_capture_on_commit_callbacks
):
    us, _ = us_territory(workspace, reps=1)
    fake_sf.accounts = [account(1)]
    fake_sf.opportunities = [opportunity(1, 1, closed=True), opportunity(2, 1)]
    connection = salesforce(workspace, fake_sf)
    assert sync_book(api, connection, django_capture_on_commit_callbacks).status == "succeeded"
    closed = Opportunity.objects.get(crm_id="00600001")
    assert closed.closed_territory_id == us.pk  # closed while its account was in US

    # A later plan moves the account elsewhere; the CRM deletes the open deal.
    Account.objects.filter(crm_id="00100001").update(territory=None)
    del fake_sf.opportunities[1]
    job = sync_book(api, connection, django_capture_on_commit_callbacks, full=True)
    job.refresh_from_db()
    assert job.status == "succeeded", job.errors
    assert job.result["opportunities_removed"] == 1
    assert list(Opportunity.objects.values_list("crm_id", flat=True)) == ["00600001"]
    closed.refresh_from_db()
    assert closed.closed_territory_id == us.pk  # history is not rewritten by the re-sync


def test_the_periodic_sync_keeps_an_imported_book_current(
    api, workspace, fake_sf, django_capture_on_commit_callbacks
):
    fake_sf.accounts = [account(1)]
    connection = salesforce(workspace, fake_sf)
    with django_capture_on_commit_callbacks(execute=True):
        sync_scheduled.run(connection_id=connection.pk)
    assert not Job.objects.filter(handler="crm_sync.book_sync").exists()  # never imported

    assert sync_book(api, connection, django_capture_on_commit_callbacks).status == "succeeded"
    fake_sf.accounts.append(account(2, stamp="2026-11-02T08:00:00.000+0000"))
    with django_capture_on_commit_callbacks(execute=True):
        sync_scheduled.run(connection_id=connection.pk)
    increment = Job.objects.filter(handler="crm_sync.book_sync").order_by("-id").first()
    assert (increment.created_by, increment.status) == ("schedule", "succeeded")
    assert increment.result["accounts_created"] == 1
    assert Account.objects.count() == 2


def test_field_mapping_is_validated_shown_and_custom_fields_are_synced(
    api, workspace, fake_sf, django_capture_on_commit_callbacks
):
    connection = salesforce(workspace, fake_sf)
    url = f"/api/v1/crm-connections/{connection.pk}/"
    settings = {**connection.settings, "field_mapping": {"country": "Billing Country;--"}}
    response = api.patch(url, {"settings": settings}, format="json")
    assert response.status_code == 400
    assert "settings.field_mapping.country" in response.json()

    mapping = {"segment": "Segment__c", "city": ""}  # a custom field; city dropped
    response = api.patch(
        url, {"settings": {**connection.settings, "field_mapping": mapping}}, format="json"
    )
    assert response.status_code == 200, response.content
    effective = response.json()["field_mapping"]
    assert effective["segment"] == "Segment__c"
    assert "city" not in effective and effective["country"] == "BillingCountry"

    fake_sf.accounts = [account(1, Segment__c="Enterprise")]
    connection.refresh_from_db()
    sync_book(api, connection, django_capture_on_commit_callbacks)
    fields = Account.objects.get().fields
    assert fields["segment"] == "Enterprise" and "city" not in fields
    assert "Segment__c" in fake_sf.soql_fields[0]


def test_bulk_api_query_job_survives_429_5xx_and_an_expired_session(
    api, workspace, fake_sf, django_capture_on_commit_callbacks
):
    fake_sf.accounts = [account(n) for n in range(1, 8)]
    connection = salesforce(workspace, fake_sf)
    connection.settings = {**connection.settings, "bulk_threshold": 5, "bulk_page_size": 3}
    connection.save()
    fake_sf.failures = [(429, {"Retry-After": "0"})]
    fake_sf.expire_after = 6  # the session expires in the middle of the results pages
    # A results page answers 503 twice, then recovers: retried, not failed.
    fake_sf.broken_locators = {"3"}
    attempts = []

    def heal(*args):
        attempts.append(1)
        if len(attempts) >= 2:
            fake_sf.broken_locators.clear()

    fake_sf.on_broken = heal
    job = sync_book(api, connection, django_capture_on_commit_callbacks)

    job.refresh_from_db()
    assert job.status == "succeeded", job.errors
    assert len(fake_sf.bulk_jobs) == 1  # one Bulk API 2.0 query job for the accounts
    locators = [locator for _, locator in fake_sf.bulk_results]
    assert locators[0] == "" and locators.count("3") == 3 and locators[-1] == "6"
    assert len(fake_sf.token_requests) == 2  # the expired session was refreshed once
    assert Account.objects.count() == 7
    assert job.progress_done == job.progress_total == 7


def test_a_sync_failing_mid_import_resumes_from_its_last_page(
    api, workspace, fake_sf, django_capture_on_commit_callbacks
):
    fake_sf.accounts = [account(n) for n in range(1, 11)]
    connection = salesforce(workspace, fake_sf)
    connection.settings = {**connection.settings, "bulk_threshold": 5, "bulk_page_size": 3}
    connection.save()
    fake_sf.broken_locators = {"6"}  # Salesforce answers 503 for the third page, for good

    failed = sync_book(api, connection, django_capture_on_commit_callbacks)
    failed.refresh_from_db()
    assert failed.status == "failed"
    assert failed.errors[0]["message"] == "TransientCrmError: Salesforce 503"
    assert Account.objects.count() == 6  # the first two pages landed
    assert failed.progress_done == 6

    fake_sf.broken_locators.clear()
    fake_sf.bulk_results.clear()
    resumed = sync_book(api, connection, django_capture_on_commit_callbacks)
    resumed.refresh_from_db()
    assert resumed.status == "succeeded", resumed.errors
    assert len(fake_sf.bulk_jobs) == 1  # the same Bulk API job, not a new query
    assert [locator for _, locator in fake_sf.bulk_results] == ["6", "9"]
    ids = sorted(Account.objects.values_list("crm_id", flat=True))
    assert ids == [f"001{n:05d}" for n in range(1, 11)]  # no gaps, no duplicates
    assert resumed.result["accounts_created"] == 10  # counts carried over from the failed run


def test_sync_book_answers_409_while_one_runs_and_404_for_another_workspace(
    api, other_api, workspace, fake_sf
):
    connection = salesforce(workspace, fake_sf)
    url = f"/api/v1/crm-connections/{connection.pk}/sync-book/"
    assert api.post(url, {}, format="json").status_code == 202  # not started: no commit
    assert api.post(url, {}, format="json").status_code == 409
    assert other_api.post(url, {}, format="json").status_code == 404
    assert api.post(url, {"full": "maybe"}, format="json").status_code == 400
