"""The CRM page's book parts in headless Chromium: the field mapping edited (a bad name is
refused naming its rule field, a custom field is added), then "Sync book" opens the job with
its live progress bar until the accounts from the fake Salesforce have landed. Demo mode (no
broker): the job runs in the server's background thread."""

import pytest

from book.models import Account
from tests.crm_sync.factories import CrmConnectionFactory
from tests.crm_sync.test_book_sync_salesforce import account
from tests.factories import MembershipFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "pw-for-tests-1"


def test_admin_maps_a_custom_field_then_syncs_the_book_with_live_progress(
    page, login, shot, workspace, fake_sf
):
    admin = MembershipFactory(workspace=workspace, role="admin").user
    connection = CrmConnectionFactory(
        workspace=workspace,
        provider="salesforce",
        name="Prod org",
        settings={"instance_url": fake_sf.instance_url, "login_url": fake_sf.instance_url},
    )
    fake_sf.bulk_polls = 3  # the Bulk API job takes a moment: the bar is seen moving
    fake_sf.accounts = [account(n, Segment__c="Enterprise") for n in range(1, 8)]
    connection.settings = {**connection.settings, "bulk_threshold": 5, "bulk_page_size": 3}
    connection.save()

    login(admin.username, PASSWORD)
    page.goto("/crm/")
    page.click("summary:has-text('field mapping')")
    mapping = page.locator("[data-testid=field-mapping] form")
    mapping.locator("input[name=rule_field][value='']").first.fill("segment")
    mapping.locator("input[name=crm_field][value='']").first.fill("Segment c!")
    mapping.locator("button").click()
    errors = page.locator("[data-testid=field-mapping-errors]")
    assert "segment: the name of an Account field" in errors.inner_text()
    shot("crm_field_mapping_error")

    form = page.locator("[data-testid=field-mapping] form")
    form.locator("input[name=rule_field][value='']").first.fill("segment")
    form.locator("input[name=crm_field][value='']").first.fill("Segment__c")
    form.locator("button").click()
    page.wait_for_selector("text=field mapping saved")

    page.click("[data-testid=sync-book] button")
    page.wait_for_url("**/jobs/*/")
    page.wait_for_selector("[data-testid=job][data-status=succeeded]", timeout=30_000)
    assert page.inner_text("[data-testid=job-progress]").startswith("7 of 7 done")
    shot("crm_book_sync_job")
    assert set(Account.objects.values_list("fields__segment", flat=True)) == {"Enterprise"}

    page.goto("/crm/")
    assert "7 of 7 records" in page.inner_text("[data-testid=book-job]")
    shot("crm_page_book")
