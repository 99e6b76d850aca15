"""The per-role walk's cases (DESIGN §9): for every API detail route and every UI route with
an id (the same routes tests/tenant_cases.py lists), how to make an object of that route
anchored on a member and a territory, and the role a write (API) or the page (UI) needs.
tests/governance/test_role_walk.py walks every route as every role and fails when a route is
missing here, so a new resource cannot skip the scope checks.

The world: territories World > West > West/North and World > East; members Lead > Mid > Rep
(through `Member.manager`) and Outsider; Rep holds a slot in West/North, Outsider in East.
The rep user is Rep, the manager user Lead, the director user has West. Every scoped role
has Rep / West/North in scope and Outsider / East out of it.
"""

from dataclasses import dataclass

from tests.factories import (
    AbsenceFactory,
    AccountLockFactory,
    MemberFactory,
    MembershipFactory,
    TerritoryFactory,
    TerritoryPlanFactory,
    TerritorySlotFactory,
    active_plan,
)


@dataclass(frozen=True)
class Anchor:
    """What a new object hangs from: in or out of the caller's scope."""

    workspace: object
    member: object
    territory: object


@dataclass(frozen=True)
class RoleWorld:
    workspace: object
    inside: Anchor
    outside: Anchor
    director_territory: object
    lead: object


def role_world(workspace) -> RoleWorld:
    plan = active_plan(workspace)
    world = TerritoryFactory(workspace=workspace, plan=plan, name="World")
    west = TerritoryFactory(workspace=workspace, plan=plan, parent=world, name="West")
    west_north = TerritoryFactory(workspace=workspace, plan=plan, parent=west, name="West/North")
    east = TerritoryFactory(workspace=workspace, plan=plan, parent=world, name="East")
    lead = MemberFactory(workspace=workspace, name="Lead")
    mid = MemberFactory(workspace=workspace, name="Mid", manager=lead)
    rep = MemberFactory(workspace=workspace, name="Rep", manager=mid)
    outsider = MemberFactory(workspace=workspace, name="Outsider")
    TerritorySlotFactory(territory=west_north, member=rep)
    TerritorySlotFactory(territory=east, member=outsider)
    return RoleWorld(
        workspace=workspace,
        inside=Anchor(workspace, rep, west_north),
        outside=Anchor(workspace, outsider, east),
        director_territory=west,
        lead=lead,
    )


def membership_kwargs(world: RoleWorld, role: str) -> dict:
    """The member a user of `role` is, and a director's territory."""
    if role == "rep":
        return {"member": world.inside.member}
    if role == "manager":
        return {"member": world.lead}
    if role == "director":
        return {"territory": world.director_territory}
    return {}


def _member(a: Anchor):
    return {"pk": a.member.pk}


def _absence(a: Anchor):
    absence = AbsenceFactory(member=a.member)
    return {"member_pk": a.member.pk, "pk": absence.pk}


def _ui_absence(a: Anchor):
    absence = AbsenceFactory(member=a.member)
    return {"pk": a.member.pk, "absence_pk": absence.pk}


def _plan(a: Anchor):
    return {"pk": TerritoryPlanFactory(workspace=a.workspace).pk}


def _territory(a: Anchor):
    return {"pk": a.territory.pk}


def _lock(a: Anchor):
    return {"pk": AccountLockFactory(territory=a.territory, workspace=a.workspace).pk}


def _allocation(a: Anchor):
    from tests.allocation.factories import AllocationFactory

    allocation = AllocationFactory(workspace=a.workspace, owner=a.member, territory=a.territory)
    return {"pk": allocation.pk}


def _capacity(a: Anchor):
    from tests.capacities.factories import CapacityFactory

    return {"pk": CapacityFactory(member=a.member).pk}


def _snapshot(a: Anchor):
    from django.utils import timezone

    from capacities.models import PipelineSnapshot

    snapshot = PipelineSnapshot.objects.create(
        workspace=a.workspace, member=a.member, open_deals=3, taken_at=timezone.now()
    )
    return {"pk": snapshot.pk}


def _crm_connection(a: Anchor):
    from tests.crm_sync.factories import CrmConnectionFactory

    return {"pk": CrmConnectionFactory(workspace=a.workspace).pk}


def _sync_run(a: Anchor):
    from crm_sync.models import SyncRun
    from tests.crm_sync.factories import CrmConnectionFactory

    connection = CrmConnectionFactory(workspace=a.workspace)
    return {"pk": SyncRun.objects.create(workspace=a.workspace, connection=connection).pk}


def _job(a: Anchor):
    from jobs.models import Job

    return {"pk": Job.objects.create(workspace=a.workspace, kind="import", handler="x").pk}


def _account(a: Anchor):
    from tests.book.factories import AccountFactory

    account = AccountFactory(workspace=a.workspace, owner=a.member, territory=a.territory)
    return {"pk": account.pk}


def _opportunity(a: Anchor):
    from tests.book.factories import AccountFactory, OpportunityFactory

    account = AccountFactory(workspace=a.workspace, owner=a.member, territory=a.territory)
    return {"pk": OpportunityFactory(account=account, owner=a.member).pk}


def _user(a: Anchor):
    return {"pk": MembershipFactory(workspace=a.workspace, role="viewer").user_id}


def _api_key(a: Anchor):
    from revorg.services import api_key_create

    return {"pk": api_key_create(workspace=a.workspace, name="walked", scopes="read").api_key.pk}


@dataclass(frozen=True)
class Case:
    make: object  # (Anchor) -> url kwargs
    scoped: bool  # rows of this route are filtered by the caller's scope
    read_role: str = "viewer"
    write_role: str = "admin"


# API url name -> its case; `write_role`: what PATCH/DELETE need (API keys: scopes)
API_CASES = {
    "member-detail": Case(_member, scoped=True),
    "absence-detail": Case(_absence, scoped=True, write_role="manager"),
    "territory-plan-detail": Case(_plan, scoped=False),
    "territory-detail": Case(_territory, scoped=True, write_role="director"),
    "account-lock-detail": Case(_lock, scoped=True, write_role="director"),
    "allocation-detail": Case(_allocation, scoped=True),
    "capacity-detail": Case(_capacity, scoped=True, write_role="manager"),
    "pipeline-snapshot-detail": Case(_snapshot, scoped=True),
    "crm-connection-detail": Case(_crm_connection, scoped=False),
    "sync-run-detail": Case(_sync_run, scoped=False),
    "job-detail": Case(_job, scoped=False),
    "account-detail": Case(_account, scoped=True),
    "opportunity-detail": Case(_opportunity, scoped=True),
    "user-detail": Case(_user, scoped=False, read_role="admin"),
}

# UI url name (namespace "ui") -> its case; `read_role`: what the page (or action) needs
UI_CASES = {
    "api-key-revoke": Case(_api_key, scoped=False, read_role="admin"),
    "member-detail": Case(_member, scoped=True),
    "absence-add": Case(_member, scoped=True, read_role="manager"),
    "absence-delete": Case(_ui_absence, scoped=True, read_role="manager"),
    "territory-edit": Case(_territory, scoped=True),
    "plan-activate": Case(_plan, scoped=False, read_role="admin"),
    "plan-clone": Case(_plan, scoped=False, read_role="admin"),
    "plan-rename": Case(_plan, scoped=False, read_role="admin"),
    "plan-delete": Case(_plan, scoped=False, read_role="admin"),
    "capacity-edit": Case(_capacity, scoped=True, read_role="manager"),
    "capacity-delete": Case(_capacity, scoped=True, read_role="manager"),
    "crm-test": Case(_crm_connection, scoped=False, read_role="admin"),
    "crm-sync": Case(_crm_connection, scoped=False, read_role="admin"),
    "crm-reconnect": Case(_crm_connection, scoped=False, read_role="admin"),
    "crm-delete": Case(_crm_connection, scoped=False, read_role="admin"),
    "crm-field-mapping": Case(_crm_connection, scoped=False, read_role="admin"),
    "crm-sync-book": Case(_crm_connection, scoped=False, read_role="admin"),
    "sync-run": Case(_sync_run, scoped=False, read_role="admin"),
    "allocation-detail": Case(_allocation, scoped=True),
    "writeback-retry": Case(_allocation, scoped=True, read_role="manager"),
    "job": Case(_job, scoped=False),
    "job-cancel": Case(_job, scoped=False, read_role="manager"),
    "account": Case(_account, scoped=True),
    "account-lock-delete": Case(_lock, scoped=True, read_role="director"),
    "member-activation": Case(_member, scoped=True, read_role="admin"),
    "territory-delete": Case(_territory, scoped=True, read_role="director"),
    "user-change": Case(_user, scoped=False, read_role="admin"),
}
