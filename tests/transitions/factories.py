"""A book that a plan change moves: accounts in the US owned by `old` under the active plan,
and a draft plan whose US territory belongs to `new`."""

from dataclasses import dataclass

from book import services as book_services
from book.models import Account, Opportunity
from tests.book.factories import AccountFactory, OpportunityFactory
from tests.factories import (
    MemberFactory,
    TerritoryFactory,
    TerritoryPlanFactory,
    TerritorySlotFactory,
    active_plan,
)

US = {"field": "country", "op": "eq", "value": "US"}


@dataclass
class Book:
    old: object
    new: object
    manager: object
    draft: object
    accounts: list
    late: Opportunity  # at or past the threshold (Negotiation, 70 %)
    early: Opportunity  # before it (Discovery, 20 %)
    closed: Opportunity
    partner: Opportunity  # an open deal of someone else on a moved account


def book_moving(workspace, *, accounts=2) -> Book:
    manager = MemberFactory(workspace=workspace, name="Mia Manager")
    old = MemberFactory(workspace=workspace, name="Olga Old", manager=manager)
    new = MemberFactory(workspace=workspace, name="Ned New", manager=manager)
    partner = MemberFactory(workspace=workspace, name="Pat Partner")
    territory = TerritoryFactory(workspace=workspace, plan=active_plan(workspace), rule=US)
    TerritorySlotFactory(territory=territory, member=old)
    draft = TerritoryPlanFactory(workspace=workspace, name="FY27")
    moved_to = TerritoryFactory(workspace=workspace, plan=draft, rule=US, name="US FY27")
    TerritorySlotFactory(territory=moved_to, member=new)
    rows = [
        AccountFactory(workspace=workspace, name=f"Acme {i}", crm_provider="salesforce")
        for i in range(accounts)
    ]
    # Not dispatched: in a transactional (browser) test it would also start in a background
    # thread at once, which claims the chunk this thread then skips.
    job = book_services.book_reevaluate_start(
        workspace=workspace, actor_label="setup", dispatch=False
    )
    from jobs.services import job_run_inline

    job_run_inline(job_id=job.pk)
    assert set(Account.objects.filter(workspace=workspace).values_list("owner_id", flat=True)) == {
        old.pk
    }
    first = rows[0]

    def deal(**kwargs):
        return OpportunityFactory(account=first, crm_provider="salesforce", **kwargs)

    return Book(
        old=old,
        new=new,
        manager=manager,
        draft=draft,
        accounts=rows,
        late=deal(name="Late deal", stage="Negotiation", probability=70, owner=old),
        early=deal(name="Early deal", stage="Discovery", probability=20, owner=old),
        closed=deal(
            name="Won deal",
            stage="Closed Won",
            probability=100,
            owner=old,
            is_closed=True,
            is_won=True,
        ),
        partner=deal(name="Partner deal", stage="Discovery", probability=10, owner=partner),
    )


def owner_of(opportunity):
    return Opportunity.objects.get(pk=opportunity.pk).owner_id
