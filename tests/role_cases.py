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


def _sla_policy(a: Anchor):
    from sla.models import SlaPolicy

    policy = SlaPolicy.objects.create(
        workspace=a.workspace, territory=a.territory, name="P", respond_within_minutes=60
    )
    return {"pk": policy.pk}


def _activation_record(a: Anchor):
    from django.utils import timezone

    from transitions.models import Activation

    plan = TerritoryPlanFactory(workspace=a.workspace)
    return Activation.objects.create(
        workspace=a.workspace, plan=plan, status="activated", effective_at=timezone.now()
    )


def _activation(a: Anchor):
    return {"pk": _activation_record(a).pk}


def _transition_move(a: Anchor):
    from tests.book.factories import AccountFactory, OpportunityFactory
    from transitions.models import TransitionMove

    account = AccountFactory(workspace=a.workspace, owner=a.member, territory=a.territory)
    deal = OpportunityFactory(account=account, owner=a.member)
    move = TransitionMove.objects.create(
        workspace=a.workspace,
        activation=_activation_record(a),
        opportunity=deal,
        account=account,
        from_member=a.member,
    )
    return {"pk": move.pk}


def _quota(a: Anchor):
    from tests.analytics.factories import QuotaFactory

    quota = QuotaFactory(
        workspace=a.workspace,
        territory=a.territory,
        period_start="2026-01-01",
        period_end="2026-03-31",
    )
    return {"pk": quota.pk}


def _member_ramp(a: Anchor):
    from tests.analytics.factories import MemberRampFactory

    return {"pk": MemberRampFactory(member=a.member, start_date="2026-01-01").pk}


def _reassignment_request(a: Anchor):
    from django.utils import timezone

    from reassignments.models import ReassignmentRequest

    request = ReassignmentRequest.objects.create(
        workspace=a.workspace,
        to_member=a.member,
        territory=a.territory,
        reason="x",
        effective_at=timezone.now(),
        requested_by_label="tests",
    )
    return {"pk": request.pk}


def _ui_decision(a: Anchor):
    return {**_reassignment_request(a), "verb": "approve"}


def _replay(a: Anchor):
    from jobs.models import Job

    plan = TerritoryPlanFactory(workspace=a.workspace)
    job = Job.objects.create(
        workspace=a.workspace, kind="replay", handler="replay.replay", params={"plan": plan.pk}
    )
    return {"pk": plan.pk, "job_pk": job.pk}


def _webhook(a: Anchor):
    from tests.notifications.factories import endpoint_for

    endpoint, _ = endpoint_for(a.workspace, f"http://127.0.0.1:9/hooks/{a.member.pk}")
    return {"pk": endpoint.pk}


def _ui_webhook_delivery(a: Anchor):
    from notifications.events import publish
    from notifications.models import WebhookDelivery

    endpoint_pk = _webhook(a)["pk"]
    publish(workspace=a.workspace, event_type="job.finished", data={"id": 1})
    delivery = WebhookDelivery.objects.get(endpoint_id=endpoint_pk)
    return {"pk": endpoint_pk, "delivery_pk": delivery.pk}


def _webhook_delivery(a: Anchor):
    ids = _ui_webhook_delivery(a)
    return {"webhook_pk": ids["pk"], "pk": ids["delivery_pk"]}


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
    "sla-policy-detail": Case(_sla_policy, scoped=False),
    "activation-detail": Case(_activation, scoped=False),
    "webhook-detail": Case(_webhook, scoped=False, read_role="admin"),
    "webhook-delivery-detail": Case(_webhook_delivery, scoped=False, read_role="admin"),
}

# UI url name (namespace "ui") -> its case; `read_role`: what the page (or action) needs
UI_CASES = {
    "api-key-revoke": Case(_api_key, scoped=False, read_role="admin"),
    "member-detail": Case(_member, scoped=True),
    "absence-add": Case(_member, scoped=True, read_role="manager"),
    "member-working-hours": Case(_member, scoped=True, read_role="manager"),
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
    "user-resend-invitation": Case(_user, scoped=False, read_role="admin"),
    "sla-policy-edit": Case(_sla_policy, scoped=False, read_role="admin"),
    "sla-policy-delete": Case(_sla_policy, scoped=False, read_role="admin"),
    "queue-accept": Case(_allocation, scoped=True, read_role="rep"),
    "plan-unschedule": Case(_plan, scoped=False, read_role="admin"),
    "plan-replay": Case(_plan, scoped=False),
    "plan-replay-result": Case(_replay, scoped=False),
    "plan-replay-moves": Case(_replay, scoped=False),
    "plan-compare": Case(_plan, scoped=False),
    "plan-simulate": Case(_plan, scoped=False, read_role="manager"),
    "plan-rebalance-accept": Case(_plan, scoped=False, read_role="admin"),
    "webhook": Case(_webhook, scoped=False, read_role="admin"),
    "webhook-toggle": Case(_webhook, scoped=False, read_role="admin"),
    "webhook-delete": Case(_webhook, scoped=False, read_role="admin"),
    "webhook-redeliver": Case(_ui_webhook_delivery, scoped=False, read_role="admin"),
}

# Scoped like capacities: a quota or ramp hangs from its member (or territory).
API_CASES["quota-detail"] = Case(_quota, scoped=True, write_role="manager")
API_CASES["member-ramp-detail"] = Case(_member_ramp, scoped=True, write_role="manager")
# A transition move and a reassignment request are in scope when any of their members (from,
# to, a request's items' owners) or their territory is: a manager sees moves into and out of
# their team. Deciding a request is further guarded by the approver check.
API_CASES["transition-move-detail"] = Case(_transition_move, scoped=True)
API_CASES["reassignment-request-detail"] = Case(_reassignment_request, scoped=True)
UI_CASES["transition-move-apply"] = Case(_transition_move, scoped=True, read_role="manager")
UI_CASES["transition-move-dismiss"] = Case(_transition_move, scoped=True, read_role="manager")
UI_CASES["reassignment-decide"] = Case(_ui_decision, scoped=True, read_role="manager")
