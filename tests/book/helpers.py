"""Small setups the book's tests share: a territory with reps, and running a job."""

from allocation.models import Allocation
from book import services
from jobs.models import Job
from tests.factories import MemberFactory, TerritoryFactory, TerritorySlotFactory


def us_territory(workspace, *, reps=3, distribution="round_robin", name="US", **kwargs):
    territory = TerritoryFactory(
        workspace=workspace,
        name=name,
        distribution=distribution,
        rule={"field": "country", "op": "eq", "value": "US"},
        **kwargs,
    )
    members = []
    for position in range(reps):
        member = MemberFactory(workspace=workspace)
        TerritorySlotFactory(territory=territory, member=member, position=position)
        members.append(member)
    return territory, members


def reevaluate(workspace, capture) -> Job:
    """Queues a re-evaluation and runs it (inline, at the commit) like demo mode does."""
    with capture(execute=True):
        job = services.book_reevaluate_start(workspace=workspace, actor_label="tests")
    job.refresh_from_db()
    return job


def moved_in_crm(account, fields: dict, *, owner_id=None) -> None:
    """The CRM (or a CSV) sends the account again with these fields, as a sync does."""
    services.accounts_upsert(
        workspace_id=account.workspace_id,
        provider="",
        rows=[
            {
                "crm_id": account.crm_id,
                "name": account.name,
                "domain": "",
                "fields": fields,
                "owner_id": owner_id,
                "crm_owner_id": "",
            }
        ],
    )


def current_entries(workspace, crm_id):
    return Allocation.objects.filter(
        workspace=workspace, record_type="account", record_id=crm_id, is_current=True
    )
