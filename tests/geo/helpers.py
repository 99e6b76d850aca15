"""A small book with hand-computed map figures, shared by the map's tests."""

from datetime import timedelta

from django.utils import timezone

from analytics.periods import fiscal_quarter_of
from geo import services
from jobs.models import Job
from tests.analytics.factories import QuotaFactory
from tests.book.factories import AccountFactory, OpportunityFactory
from tests.factories import MemberFactory, TerritoryFactory, TerritorySlotFactory


def small_book(workspace) -> dict:
    """Territories: West (US: CA, WA; rep Ada) with child Bay Area (CA), France (FR).
    Accounts (status set as re-evaluation would):
      US-CA: SF (assigned West, Ada, open 1000 + closed 5000), LA (assigned West, Ada,
             open 500), Fresno (orphaned, city 'Nowhereville': unresolvable)
      US-NY: Buffalo, Albany (orphaned, open 250 on Albany)
      FR:    Paris (assigned France), Lyon ("France", orphaned)
      none:  Mystery (no country, orphaned)
    """
    ada = MemberFactory(workspace=workspace, name="Ada Park")
    bob = MemberFactory(workspace=workspace, name="Bob Lee")
    west = TerritoryFactory(
        workspace=workspace,
        name="West",
        rule={
            "all": [
                {"field": "country", "op": "eq", "value": "US"},
                {"field": "state", "op": "in", "value": ["CA", "WA"]},
            ]
        },
    )
    bay = TerritoryFactory(
        workspace=workspace,
        name="Bay Area",
        parent=west,
        rule={"field": "state", "op": "eq", "value": "ca"},
    )
    france = TerritoryFactory(
        workspace=workspace,
        name="France",
        rule={"field": "country", "op": "eq", "value": "FR"},
    )
    TerritoryFactory(
        workspace=workspace,
        name="Retail",
        rule={"field": "industry", "op": "eq", "value": "Retail"},
    )
    TerritorySlotFactory(territory=west, member=ada)
    TerritorySlotFactory(territory=france, member=bob)

    def account(name, fields, territory=None, owner=None):
        return AccountFactory(
            workspace=workspace,
            name=name,
            fields=fields,
            territory=territory,
            owner=owner,
            status="assigned" if territory else "orphaned",
        )

    sf = account("SF Co", {"country": "US", "state": "CA", "postal_code": "94105"}, west, ada)
    la = account("LA Co", {"country": "US", "state": "CA", "postal_code": "90012"}, west, ada)
    fresno = account("Fresno Co", {"country": "US", "state": "CA", "city": "Nowhereville"})
    buffalo = account("Buffalo Co", {"country": "USA", "state": "NY", "city": "Buffalo"})
    albany = account("Albany Co", {"country": "US", "state": "New York", "postal_code": "12207"})
    paris = account("Paris SA", {"country": "FR", "city": "Paris"}, france, bob)
    lyon = account("Lyon SA", {"country": "France", "city": "Lyon"})
    mystery = account("Mystery", {"industry": "Retail"})
    OpportunityFactory(account=sf, amount=1000, is_closed=False)
    OpportunityFactory(account=sf, amount=5000, is_closed=True, is_won=True)
    OpportunityFactory(account=la, amount=500, is_closed=False)
    OpportunityFactory(account=albany, amount=250, is_closed=False)
    return {
        "ada": ada,
        "bob": bob,
        "west": west,
        "bay": bay,
        "france": france,
        "accounts": {
            "sf": sf,
            "la": la,
            "fresno": fresno,
            "buffalo": buffalo,
            "albany": albany,
            "paris": paris,
            "lyon": lyon,
            "mystery": mystery,
        },
    }


def locate(workspace, capture) -> Job:
    """Runs the locate job as demo mode does (inline, at the commit)."""
    with capture(execute=True):
        job = services.accounts_locate_start(workspace=workspace, actor_label="tests")
    job.refresh_from_db()
    return job


def _won(account, territory, amount, day, won=True):
    OpportunityFactory(
        account=account,
        amount=amount,
        is_closed=True,
        is_won=won,
        created_date=day - timedelta(days=10),
        close_date=day,
        closed_date=day,
        closed_territory=territory,
    )


def current_and_previous_quarter(workspace):
    this = fiscal_quarter_of(timezone.localdate(), workspace.fiscal_year_start_month)
    previous = fiscal_quarter_of(this.start - timedelta(days=1), workspace.fiscal_year_start_month)
    return this, previous


def attainment_book(workspace) -> dict:
    """The small book with quotas and closed deals (figures in tests/geo/test_attainment.py):
    this quarter West 5000 / 10000 rolled up, Bay Area 3000 / 4000, Golden State (a top-level
    US-CA territory) 1000 / 6000, France 500 / 2000; the previous quarter West 6000 / 20000."""
    this, previous = current_and_previous_quarter(workspace)
    book = small_book(workspace)
    golden = TerritoryFactory(
        workspace=workspace,
        name="Golden State",
        rule={
            "all": [
                {"field": "country", "op": "eq", "value": "US"},
                {"field": "state", "op": "eq", "value": "CA"},
            ]
        },
    )
    book["golden"] = golden
    west, bay, france = book["west"], book["bay"], book["france"]
    sf, paris = book["accounts"]["sf"], book["accounts"]["paris"]
    for territory, amount in ((west, 10000), (bay, 4000), (golden, 6000), (france, 2000)):
        QuotaFactory(
            workspace=workspace,
            territory=territory,
            period_start=this.start,
            period_end=this.end,
            amount=amount,
        )
    QuotaFactory(
        workspace=workspace,
        territory=west,
        period_start=previous.start,
        period_end=previous.end,
        amount=20000,
    )
    _won(sf, west, 2000, this.start)
    _won(sf, bay, 3000, this.start)
    _won(sf, bay, 800, this.start, won=False)
    _won(sf, golden, 1000, this.end)
    _won(paris, france, 500, this.start)
    _won(paris, france, 700, this.start, won=False)
    _won(sf, west, 6000, previous.end)
    return book
