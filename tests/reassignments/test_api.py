"""/api/v1/reassignment-requests/: a request names records, a new owner, a reason, an
effective date and the open-deal policy; its impact is computed when made; approvals
follow the workspace's policy (admins approve any, nobody their own, every decision with a
comment); on final approval it runs at its effective date through the reassignment path."""

from datetime import timedelta

import pytest
from django.utils import timezone

from allocation.models import Allocation
from book.models import Account, Opportunity
from reassignments.models import ReassignmentRequest
from reassignments.services import reassignment_requests_execute_due
from revorg.models import AuditEntry
from tests.allocation.factories import AllocationFactory
from tests.book.factories import AccountFactory, OpportunityFactory
from tests.factories import MemberFactory, TerritoryFactory, TerritorySlotFactory

URL = "/api/v1/reassignment-requests/"


def set_policy(workspace, policy):
    workspace.reassignment_approval = policy
    workspace.save(update_fields=["reassignment_approval"])


def request_body(org, **extra):
    entry = AllocationFactory(workspace=org.workspace, owner=org.rep)
    return {
        "allocations": [entry.pk],
        "to_member": org.new_rep.pk,
        "reason": "Ravi moves to enterprise",
        **extra,
    }


def create(client, body):
    response = client.post(URL, body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def decide(client, request_id, verb="approve", comment="fine by me"):
    return client.post(f"{URL}{request_id}/{verb}/", {"comment": comment}, format="json")


# --- creation and impact ---------------------------------------------------------------------


def test_a_request_computes_its_impact_when_made(org, workspace):
    manager = org.person("manager", org.old_manager)
    account = AccountFactory(workspace=workspace, owner=org.rep)
    OpportunityFactory(account=account, amount=1200)
    OpportunityFactory(account=account, amount=800)
    OpportunityFactory(account=account, amount=5000, is_closed=True)
    body = request_body(org, accounts=[account.pk], open_deals="follow_territory")
    made = create(manager, body)
    assert made["status"] == "pending"
    assert made["impact"] == {
        "accounts": 1,
        "open_deals": 2,
        "open_pipeline": 2000.0,
        "pending_allocations": 1,
    }
    assert made["accounts"] == [account.pk] and made["allocations"] == body["allocations"]
    assert made["required_approvals"] == [f"incoming:{org.new_manager.pk}"]
    assert made["requested_by"].startswith("user ")
    assert AuditEntry.objects.filter(
        workspace=workspace, object_type="reassignments.reassignmentrequest", action="create"
    ).exists()


def test_all_accounts_of_a_rep_in_a_territory_and_its_subtree(org, workspace, api):
    west = TerritoryFactory(workspace=workspace, name="West")
    california = TerritoryFactory(workspace=workspace, name="California", parent=west)
    east = TerritoryFactory(workspace=workspace, name="East")
    inside = [
        AccountFactory(workspace=workspace, owner=org.rep, territory=west),
        AccountFactory(workspace=workspace, owner=org.rep, territory=california),
    ]
    AccountFactory(workspace=workspace, owner=org.rep, territory=east)
    AccountFactory(workspace=workspace, owner=org.new_rep, territory=west)
    made = create(
        api,
        {"from_member": org.rep.pk, "territory": west.pk, "to_member": org.new_rep.pk,
         "reason": "West goes to Nico"},
    )  # fmt: skip
    assert sorted(made["accounts"]) == sorted(a.pk for a in inside)
    assert made["impact"]["accounts"] == 2


def test_under_the_none_policy_a_request_is_approved_when_made(org, workspace, api):
    set_policy(workspace, "none")
    made = create(api, request_body(org))
    assert made["status"] == "approved" and made["required_approvals"] == []


# --- approvals per policy --------------------------------------------------------------------


def test_incoming_manager_policy_needs_the_new_owners_manager(org, workspace, api):
    made = create(api, request_body(org))
    outgoing = org.person("manager", org.old_manager)
    refused = decide(outgoing, made["id"])
    assert refused.status_code == 403
    assert "new owner's manager" in refused.json()["detail"]
    incoming = org.person("manager", org.new_manager)
    approved = decide(incoming, made["id"], comment="Nico has room")
    assert approved.status_code == 200
    body = approved.json()
    assert body["status"] == "approved"
    assert body["approvals"][0]["decision"] == "approve"
    assert body["approvals"][0]["comment"] == "Nico has room"
    assert body["approvals"][0]["settles"] == [f"incoming:{org.new_manager.pk}"]


def test_both_managers_policy_waits_for_the_outgoing_manager_too(org, workspace, api):
    set_policy(workspace, "both_managers")
    made = create(api, request_body(org))
    assert made["required_approvals"] == [
        f"incoming:{org.new_manager.pk}",
        f"outgoing:{org.old_manager.pk}",
    ]
    first = decide(org.person("manager", org.new_manager), made["id"])
    assert first.json()["status"] == "pending"
    second = decide(org.person("manager", org.old_manager), made["id"])
    assert second.json()["status"] == "approved"
    assert len(second.json()["approvals"]) == 2


def test_an_admin_may_approve_any_request(org, workspace, api):
    set_policy(workspace, "both_managers")
    made = create(api, request_body(org))
    approved = decide(org.person("admin"), made["id"])
    assert approved.json()["status"] == "approved"


def test_nobody_approves_their_own_request(org, workspace):
    admin = org.person("admin")
    made = create(admin, request_body(org))
    own = decide(admin, made["id"])
    assert own.status_code == 403
    assert "own request" in own.json()["detail"]
    assert ReassignmentRequest.objects.get(pk=made["id"]).status == "pending"


def test_a_manager_requesting_cannot_approve_as_incoming_manager(org, workspace):
    # The record lies in a territory Nico (the incoming manager's report) holds a slot in:
    # in the incoming manager's scope, so theirs to ask about.
    shared = TerritoryFactory(workspace=workspace, name="Shared")
    TerritorySlotFactory(territory=shared, member=org.new_rep)
    entry = AllocationFactory(workspace=workspace, owner=org.rep, territory=shared)
    incoming = org.person("manager", org.new_manager)
    made = create(incoming, {**request_body(org), "allocations": [entry.pk]})
    assert decide(incoming, made["id"]).status_code == 403


def test_a_manager_cannot_ask_for_another_teams_records(org, workspace):
    """What a request moves stays within the requester's scope (the new owner may be
    anyone): another team's allocation is unknown, as another workspace's."""
    incoming = org.person("manager", org.new_manager)
    response = incoming.post(URL, request_body(org), format="json")
    assert response.status_code == 400 and "allocations" in response.json()
    assert not ReassignmentRequest.objects.exists()


def test_one_rejection_rejects_and_a_decided_request_is_409(org, workspace, api):
    made = create(api, request_body(org))
    incoming = org.person("manager", org.new_manager)
    rejected = decide(incoming, made["id"], "reject", "Nico is full this quarter")
    assert rejected.json()["status"] == "rejected"
    late = decide(org.person("admin"), made["id"])
    assert late.status_code == 409


def test_a_decision_carries_a_comment(org, workspace, api):
    made = create(api, request_body(org))
    incoming = org.person("manager", org.new_manager)
    for body in ({}, {"comment": "   "}, {"comment": 7 * []}):
        response = incoming.post(f"{URL}{made['id']}/approve/", body, format="json")
        assert response.status_code == 400
        assert "comment" in response.json()
    assert ReassignmentRequest.objects.get(pk=made["id"]).approvals.count() == 0


def test_api_keys_request_but_do_not_approve(org, workspace, api):
    made = create(api, request_body(org))
    response = decide(api, made["id"])
    assert response.status_code == 403
    assert "people" in response.json()["detail"]


def test_the_approval_queue_lists_what_i_may_decide(org, workspace, api):
    set_policy(workspace, "both_managers")
    made = create(api, request_body(org))
    other_manager = org.person("manager", MemberFactory(workspace=workspace))
    assert other_manager.get(f"{URL}queue/").json()["count"] == 0
    incoming = org.person("manager", org.new_manager)
    assert [r["id"] for r in incoming.get(f"{URL}queue/").json()["results"]] == [made["id"]]
    decide(incoming, made["id"])
    assert incoming.get(f"{URL}queue/").json()["count"] == 0  # decided by me
    assert org.person("admin").get(f"{URL}queue/").json()["count"] == 1


def test_the_requester_cancels_and_others_may_not(org, workspace, api):
    made = create(api, request_body(org))
    assert (
        org.person("manager", org.new_manager).post(f"{URL}{made['id']}/cancel/").status_code == 403
    )
    cancelled = api.post(f"{URL}{made['id']}/cancel/")
    assert cancelled.json()["status"] == "cancelled"
    assert api.post(f"{URL}{made['id']}/cancel/").status_code == 409


# --- execution at the effective date ---------------------------------------------------------


def test_an_approved_request_runs_at_its_effective_date(org, workspace, api):
    set_policy(workspace, "none")
    later = timezone.now() + timedelta(hours=2)
    entry = AllocationFactory(workspace=workspace, owner=org.rep, record_id="00QX")
    account = AccountFactory(workspace=workspace, owner=org.rep)
    deal = OpportunityFactory(account=account, owner=org.rep)
    made = create(
        api,
        {"allocations": [entry.pk], "accounts": [account.pk], "to_member": org.new_rep.pk,
         "reason": "handover", "effective_at": later.isoformat(),
         "open_deals": "follow_territory"},
    )  # fmt: skip
    assert reassignment_requests_execute_due() == 0  # not yet
    assert api.get(f"{URL}{made['id']}/").json()["status"] == "approved"
    assert reassignment_requests_execute_due(now=later + timedelta(minutes=1)) == 1
    done = api.get(f"{URL}{made['id']}/").json()
    assert done["status"] == "executed" and done["result"] == {"moved": 2, "failed": 0}
    current = Allocation.objects.get(workspace=workspace, record_id="00QX", is_current=True)
    assert current.owner_id == org.new_rep.pk and current.reassigned_from_id == entry.pk
    assert current.decision[0]["step"] == "request"
    assert current.actor_label == f"reassignment request {made['id']}"
    assert Account.objects.get(pk=account.pk).owner_id == org.new_rep.pk
    assert Opportunity.objects.get(pk=deal.pk).owner_id == org.new_rep.pk
    account_entry = Allocation.objects.get(
        workspace=workspace, record_type="account", record_id=account.crm_id, is_current=True
    )
    assert account_entry.owner_id == org.new_rep.pk
    assert reassignment_requests_execute_due(now=later + timedelta(minutes=2)) == 0  # once


def test_follow_rep_leaves_open_deals_with_their_owner(org, workspace, api):
    set_policy(workspace, "none")
    account = AccountFactory(workspace=workspace, owner=org.rep)
    deal = OpportunityFactory(account=account, owner=org.rep)
    create(api, {"accounts": [account.pk], "to_member": org.new_rep.pk, "reason": "x"})
    reassignment_requests_execute_due()
    assert Account.objects.get(pk=account.pk).owner_id == org.new_rep.pk
    assert Opportunity.objects.get(pk=deal.pk).owner_id == org.rep.pk


def test_records_the_new_owner_cannot_take_fail_alone(org, workspace, api):
    set_policy(workspace, "none")
    movable = AllocationFactory(workspace=workspace, owner=org.rep)
    replaced = AllocationFactory(workspace=workspace, owner=org.rep, record_id="00QR")
    made = create(
        api, {"allocations": [movable.pk, replaced.pk], "to_member": org.new_rep.pk,
              "reason": "x"},
    )  # fmt: skip
    AllocationFactory(workspace=workspace, owner=org.rep, record_id="00QR")  # a newer entry
    Allocation.objects.filter(pk=replaced.pk).update(is_current=False)
    reassignment_requests_execute_due()
    done = api.get(f"{URL}{made['id']}/").json()
    assert done["result"] == {"moved": 1, "failed": 1}
    failed = next(i for i in done["items"] if i["status"] == "failed")
    assert failed["allocation"] == replaced.pk and "no longer the current" in failed["detail"]


# --- attacks ---------------------------------------------------------------------------------


def test_another_workspaces_request_is_404(org, workspace, api, other_api):
    made = create(api, request_body(org))
    assert other_api.get(f"{URL}{made['id']}/").status_code == 404
    for verb in ("approve", "reject", "cancel"):
        response = other_api.post(f"{URL}{made['id']}/{verb}/", {"comment": "x"}, format="json")
        assert response.status_code == 404


def test_another_workspaces_ids_in_a_request_are_400(org, workspace, api, other_workspace):
    foreign_member = MemberFactory(workspace=other_workspace)
    foreign_account = AccountFactory(workspace=other_workspace)
    foreign_entry = AllocationFactory(workspace=other_workspace)
    body = request_body(org)
    for field, value in (
        ("to_member", foreign_member.pk),
        ("accounts", [foreign_account.pk]),
        ("allocations", [foreign_entry.pk]),
    ):
        response = api.post(URL, {**body, field: value}, format="json")
        assert response.status_code == 400 and field in response.json()
    assert ReassignmentRequest.objects.count() == 0


def test_a_viewer_may_not_request_and_a_rep_only_for_their_own_records(org, workspace):
    viewer = org.person("viewer")
    assert viewer.post(URL, request_body(org), format="json").status_code == 403
    stranger = org.person("rep", MemberFactory(workspace=workspace))
    assert stranger.post(URL, request_body(org), format="json").status_code == 400  # unseen
    west = TerritoryFactory(workspace=workspace, name="West")
    colleague = MemberFactory(workspace=workspace)
    TerritorySlotFactory(territory=west, member=colleague)
    shared = AllocationFactory(workspace=workspace, owner=org.rep, territory=west)
    other_rep = org.person("rep", colleague)  # sees Ravi's record in their territory
    body = {**request_body(org), "allocations": [shared.pk]}
    assert other_rep.post(URL, body, format="json").status_code == 403
    ravi = org.person("rep", org.rep)
    assert ravi.post(URL, request_body(org), format="json").status_code == 201
    made = ReassignmentRequest.objects.get()
    assert decide(ravi, made.pk).status_code == 403  # a rep approves nothing


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"reason": ""}, "reason"),
        ({"to_member": "abc"}, "to_member"),
        ({"allocations": ["x"]}, "allocations"),
        ({"allocations": "1"}, "allocations"),
        ({"effective_at": "tomorrow"}, "effective_at"),
        ({"open_deals": "stage_based"}, "open_deals"),
        ({"surprise": 1}, "surprise"),
        ({"allocations": [], "accounts": []}, "accounts"),
        ({"from_member": None, "territory": None, "allocations": [2**63]}, "allocations"),
    ],
)
def test_bad_input_is_400_naming_the_field(org, workspace, api, change, field):
    response = api.post(URL, {**request_body(org), **change}, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert ReassignmentRequest.objects.count() == 0


def test_a_rep_without_a_territory_is_400(org, workspace, api):
    body = {"from_member": org.rep.pk, "to_member": org.new_rep.pk, "reason": "x"}
    response = api.post(URL, body, format="json")
    assert response.status_code == 400 and "territory" in response.json()
