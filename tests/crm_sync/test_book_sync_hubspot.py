"""The book from HubSpot through the real hubspot-api-client: companies and deals listed in
full (deals with their company associations), increments searched by
`hs_lastmodifieddate` with associations read in a batch, 429/5xx retried, a revoked token
failing the sync (connection needs reauth) and the sync resuming from its last page."""

import pytest

from book.models import Account, Opportunity
from crm_sync.models import CrmConnection
from crm_sync.services import connection_create, connection_update
from jobs.models import Job

from .fake_hubspot import FakeHubSpotBook, company, deal
from .test_book_sync_salesforce import sync_book

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def jobs_inline(settings):
    settings.JOBS_EAGER_MODE = "inline"
    settings.CRM_BOOK_BACKOFF_SECONDS = 0.01


def hubspot(workspace, httpserver):
    return connection_create(
        workspace=workspace,
        provider="hubspot",
        name="Portal",
        settings={"base_url": httpserver.url_for("").rstrip("/")},
        credentials={"access_token": "pat-na1-secret"},
    )


def test_full_then_incremental_sync_of_companies_and_deals_with_associations(
    api, workspace, httpserver, django_capture_on_commit_callbacks
):
    fake = FakeHubSpotBook(httpserver)
    fake.companies = [company(n) for n in (101, 102, 103)]
    fake.deals = [deal(1, 101), deal(2, 103, closed=True), deal(3, None)]
    connection = hubspot(workspace, httpserver)

    job = sync_book(api, connection, django_capture_on_commit_callbacks)
    job.refresh_from_db()
    assert job.status == "succeeded", job.errors
    assert job.result["accounts_created"] == 3
    assert job.progress_done == job.progress_total == 6  # totals counted by a search
    assert job.result["opportunities_written"] == 2
    assert job.result["opportunities_without_account"] == 1  # a deal with no company
    acme = Account.objects.get(crm_id="101")
    assert (acme.crm_provider, acme.domain, acme.crm_owner_id) == (
        "hubspot",
        "company101.example",
        "11",
    )
    assert acme.fields["postal_code"] == "94105" and acme.fields["employees"] == 250
    won = Opportunity.objects.get(crm_id="2")
    assert (won.account.crm_id, won.is_closed, won.is_won, won.probability) == (
        "103",
        True,
        True,
        100,
    )

    later = "2026-11-05T09:00:00.000Z"
    fake.companies[0] = company(101, country="DE", stamp=later)
    fake.deals.append(deal(4, 102, stamp=later))
    fake.requests.clear()
    job = sync_book(api, connection, django_capture_on_commit_callbacks)
    job.refresh_from_db()
    assert job.status == "succeeded", job.errors
    paths = {path for path, _ in fake.requests}
    assert paths == {"/crm/v3/objects/companies/search", "/crm/v3/objects/deals/search"}
    assert fake.association_reads == [["4"]]
    assert (job.result["accounts_updated"], job.result["opportunities_written"]) == (1, 1)
    assert Account.objects.get(crm_id="101").fields["country"] == "DE"
    assert Opportunity.objects.get(crm_id="4").account.crm_id == "102"


def test_throttling_and_server_errors_are_retried(
    api, workspace, httpserver, django_capture_on_commit_callbacks
):
    fake = FakeHubSpotBook(httpserver)
    fake.companies = [company(n) for n in range(101, 106)]
    connection = hubspot(workspace, httpserver)
    fake.failures = [(429, {"Retry-After": "0"}), (502, {}), (500, {})]
    job = sync_book(api, connection, django_capture_on_commit_callbacks)
    job.refresh_from_db()
    assert job.status == "succeeded", job.errors
    assert Account.objects.count() == 5
    assert job.progress_done == job.progress_total == 5


def test_a_revoked_token_mid_import_needs_reauth_and_the_sync_resumes_from_its_last_page(
    api, workspace, httpserver, django_capture_on_commit_callbacks
):
    fake = FakeHubSpotBook(httpserver)
    fake.companies = [company(n) for n in range(101, 107)]
    connection = hubspot(workspace, httpserver)
    fake.revoke_after = 3  # the count and two pages are read, then the token is revoked

    failed = sync_book(api, connection, django_capture_on_commit_callbacks)
    failed.refresh_from_db()
    assert failed.status == "failed"
    assert failed.errors[0]["message"] == (
        "CrmAuthError: HubSpot refused the access token (HTTP 401)"
    )
    assert CrmConnection.objects.get(pk=connection.pk).needs_reauth
    assert Account.objects.count() == 4

    connection_update(connection=connection, credentials={"access_token": "rotated"})
    fake.requests.clear()
    resumed = sync_book(api, connection, django_capture_on_commit_callbacks)
    resumed.refresh_from_db()
    assert resumed.status == "succeeded", resumed.errors
    assert fake.requests[0] == ("/crm/v3/objects/companies", "4")  # from the failed page on
    assert sorted(Account.objects.values_list("crm_id", flat=True)) == [
        str(n) for n in range(101, 107)
    ]
    assert Job.objects.filter(handler="crm_sync.book_sync").count() == 2
