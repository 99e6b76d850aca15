"""A closed deal keeps the territory its account had when it closed (analytics credit it):
a later sync or import of the deal, or a re-evaluation moving its account under a new
territory, does not rewrite that history."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from book.models import Account, Opportunity
from territories.services import plan_touch
from tests.book.factories import AccountFactory, OpportunityFactory
from tests.book.helpers import reevaluate, us_territory

pytestmark = pytest.mark.django_db

DEAL = (
    "crm_id,account_crm_id,name,owner_email,stage,probability,amount,close_date,is_closed,"
    "is_won,created_date\n"
    "O1,A1,Won,,Closed Won,100,5000,2026-02-03,true,true,2026-01-04\n"
)
Q1 = {"period_start": "2026-01-01", "period_end": "2026-03-31"}


def _import_deal(api, capture):
    with capture(execute=True):
        response = api.post(
            "/api/v1/opportunities/import/",
            {"file": SimpleUploadedFile("o.csv", DEAL.encode(), content_type="text/csv")},
            format="multipart",
        )
    assert response.status_code == 202, response.content


def _move_us_accounts_to_a_new_territory(workspace, capture):
    new, _ = us_territory(workspace, name="US reorganised", priority=100)
    plan_touch(plan_id=new.plan_id)  # the factory wrote past the services: recompile
    reevaluate(workspace, capture)
    return new


def test_a_resync_after_the_account_moved_keeps_the_territory_of_then(
    api, workspace, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    old, _ = us_territory(workspace)
    AccountFactory(workspace=workspace, crm_id="A1", fields={"country": "US"})
    reevaluate(workspace, capture)
    _import_deal(api, capture)
    assert Opportunity.objects.get(crm_id="O1").closed_territory == old

    new = _move_us_accounts_to_a_new_territory(workspace, capture)
    assert Account.objects.get(crm_id="A1").territory == new
    _import_deal(api, capture)  # the CRM sends the closed deal again

    assert Opportunity.objects.get(crm_id="O1").closed_territory == old
    rows = {
        row["territory"]["name"]: row
        for row in api.get("/api/v1/analytics/territories/", Q1).json()["results"]
    }
    assert rows["US"]["won_amount"] == 5000.0
    assert rows["US reorganised"]["won_amount"] == 0.0


def test_a_re_evaluation_records_the_territory_of_deals_closed_before_it_was_known(
    workspace, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    old, _ = us_territory(workspace)
    account = AccountFactory(workspace=workspace, fields={"country": "US"})
    reevaluate(workspace, capture)
    # A deal whose closing territory was never recorded (it came in before this was kept).
    deal = OpportunityFactory(account=account, is_closed=True, is_won=True, closed_territory=None)
    still_open = OpportunityFactory(account=account)

    _move_us_accounts_to_a_new_territory(workspace, capture)

    deal.refresh_from_db()
    still_open.refresh_from_db()
    assert deal.closed_territory == old
    assert still_open.closed_territory is None
