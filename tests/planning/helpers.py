"""A small book whose simulation is computed by hand in the tests."""

import time
from types import SimpleNamespace

from django.db import transaction

from book.models import Account
from jobs.models import Job
from planning import services
from territories.services import plan_clone, territory_update
from tests.book.factories import AccountFactory, OpportunityFactory
from tests.factories import (
    MemberFactory,
    TerritoryFactory,
    TerritorySlotFactory,
    active_plan,
)


def states(*codes):
    return {"field": "state", "op": "in", "value": list(codes)}


def small_book(workspace):
    """Active plan: East (NY, MA; primaries Ann, Bob, round robin) and West (CA; Cid).
    Accounts: 1 NY Ann (open deal 1000), 2 NY Ann, 3 MA Bob, 4 CA Cid (open deal 500),
    5 CA Cid (a closed deal), 6 TX nobody (orphaned).
    The draft (a clone) gives MA to West (higher priority) and adds South (TX; Dee)."""
    plan = active_plan(workspace)
    ann, bob, cid, dee = (
        MemberFactory(workspace=workspace, name=n) for n in ["Ann", "Bob", "Cid", "Dee"]
    )
    east = TerritoryFactory(workspace=workspace, plan=plan, name="East", rule=states("NY", "MA"))
    west = TerritoryFactory(workspace=workspace, plan=plan, name="West", rule=states("CA"))
    TerritorySlotFactory(territory=east, member=ann, position=0)
    TerritorySlotFactory(territory=east, member=bob, position=1)
    TerritorySlotFactory(territory=west, member=cid, position=0)
    book = [("NY", east, ann), ("NY", east, ann), ("MA", east, bob), ("CA", west, cid),
            ("CA", west, cid), ("TX", None, None)]  # fmt: skip
    accounts = [
        AccountFactory(
            workspace=workspace,
            crm_id=f"A{i}",
            name=f"Account {i}",
            fields={"country": "US", "state": state},
            territory=territory,
            owner=owner,
            status="assigned" if territory else "orphaned",
        )
        for i, (state, territory, owner) in enumerate(book, start=1)
    ]
    OpportunityFactory(account=accounts[0], amount=1000)
    OpportunityFactory(account=accounts[3], amount=500)
    OpportunityFactory(account=accounts[4], amount=999, is_closed=True)
    with transaction.atomic():
        draft = plan_clone(plan=plan, name="Next year")
        draft_west = draft.territories.get(name="West")
        territory_update(territory=draft_west, rule=states("CA", "MA"), priority=10)
        south = TerritoryFactory(workspace=workspace, plan=draft, name="South", rule=states("TX"))
        TerritorySlotFactory(territory=south, member=dee, position=0)
    return SimpleNamespace(
        plan=plan, draft=draft, accounts=accounts, ann=ann, bob=bob, cid=cid, dee=dee,
        east=east, west=west, draft_west=draft_west, south=south,
    )  # fmt: skip


def book_snapshot(workspace):
    return list(
        Account.objects.filter(workspace=workspace)
        .order_by("id")
        .values("id", "territory_id", "owner_id", "status", "assigned_at", "updated_at")
    )


def wait_for_job(job_id, seconds=120) -> Job:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job = Job.objects.get(pk=job_id)
        if job.status not in ("queued", "running"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish")


def simulate_inline(plan, capture):
    """The whole-book simulation run in this thread at the commit (JOBS_EAGER_MODE inline),
    for tests that are not about workers."""
    with capture(execute=True):
        job = services.simulation_start(plan=plan, actor_label="tests")
    return wait_for_job(job.pk)
