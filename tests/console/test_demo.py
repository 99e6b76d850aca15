from collections import Counter
from io import StringIO

from django.core.management import call_command
from rest_framework.test import APIClient

from book.models import Account, Opportunity
from revorg.models import Workspace


def test_load_demo_prints_a_working_key_and_is_repeatable(db):
    for _ in range(2):
        out = StringIO()
        call_command("load_demo", stdout=out)
        raw_key = out.getvalue().strip().splitlines()[-1]

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    page = client.get("/api/v1/members/").json()
    assert page["count"] == 12
    assert all(m["metadata"]["languages"] for m in page["results"])
    assert "admin" in out.getvalue() and "password" in out.getvalue()

    match = client.post(
        "/api/v1/territories/match/",
        {"record": {"fields": {"country": "US", "state": "CA", "industry": "healthcare"}}},
        format="json",
    ).json()
    assert match["winner"]["name"] == "West — Healthcare"
    assert client.get("/api/v1/territories/").json()["count"] == 5


def test_the_demo_book_is_assigned_with_coverage_and_pipeline(db):
    call_command("load_demo", stdout=StringIO())
    call_command("load_demo", stdout=StringIO())  # repeatable: no second book
    workspace = Workspace.objects.get(slug="demo")
    statuses = Counter(Account.objects.filter(workspace=workspace).values_list("status", flat=True))
    assert sum(statuses.values()) == 240
    assert statuses["assigned"] > 150 and statuses["orphaned"] > 0  # JP and BR: white space
    assert not Account.objects.filter(workspace=workspace, status="assigned", owner=None).exists()
    deals = Opportunity.objects.filter(workspace=workspace)
    assert deals.filter(is_closed=False).exists() and deals.filter(is_won=True).exists()
    # A deal closed in an assigned account is credited to the territory it closed in.
    closed = deals.filter(is_closed=True, account__status="assigned")
    assert closed.exists() and not closed.filter(closed_territory=None).exists()
