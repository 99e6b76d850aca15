"""/api/v1/sla-policies/, the allocation read's `sla`, `POST /allocations/{id}/accept/` and
`GET /analytics/time-to-accept/`."""

from datetime import timedelta

import pytest
from django.utils import timezone

from allocation.models import Allocation
from sla.models import SlaClock, SlaPolicy
from sla.services import sla_sweep
from tests.allocation.factories import AllocationFactory
from tests.factories import MemberFactory, MembershipFactory, TerritoryFactory
from tests.sla.conftest import LEAD

POLICIES = "/api/v1/sla-policies/"


def allocate(api, record_id="00Q1"):
    body = {"record": {**LEAD["record"], "id": record_id}}
    response = api.post("/api/v1/allocations/", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


# --- policies ---------------------------------------------------------------------------------


def test_policies_per_territory_and_for_the_workspace(api, workspace):
    territory = TerritoryFactory(workspace=workspace)
    made = api.post(
        POLICIES,
        {"name": "Hot leads", "territory": territory.pk, "respond_within_minutes": 30,
         "remind_at_percent": 80, "on_breach": "escalate", "max_breaches": 1},
        format="json",
    )  # fmt: skip
    assert made.status_code == 201, made.json()
    assert made.json()["record_types"] == ["lead", "contact"]
    workspace_wide = api.post(
        POLICIES, {"name": "Everything else", "territory": None, "respond_within_minutes": 240},
        format="json",
    )  # fmt: skip
    assert workspace_wide.status_code == 201
    assert workspace_wide.json()["on_breach"] == "reassign"
    again = api.post(
        POLICIES, {"name": "Twice", "territory": territory.pk, "respond_within_minutes": 5},
        format="json",
    )  # fmt: skip
    assert again.status_code == 400 and "territory" in again.json()
    assert api.get(POLICIES).json()["count"] == 2


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"respond_within_minutes": 0}, "respond_within_minutes"),
        ({"respond_within_minutes": "soon"}, "respond_within_minutes"),
        ({"remind_at_percent": 100}, "remind_at_percent"),
        ({"on_breach": "panic"}, "on_breach"),
        ({"max_breaches": -1}, "max_breaches"),
        ({"record_types": ["fax"]}, "record_types"),
        ({"record_types": []}, "record_types"),
        ({"name": ""}, "name"),
    ],
)
def test_bad_policies_are_400_naming_the_field(api, workspace, change, field):
    body = {"name": "P", "respond_within_minutes": 60, **change}
    response = api.post(POLICIES, body, format="json")
    assert response.status_code == 400 and field in response.json()
    assert not SlaPolicy.objects.exists()


def test_policies_are_tenant_scoped_and_admin_written(api, other_api, workspace, other_workspace,
                                                      user_client):  # fmt: skip
    foreign = TerritoryFactory(workspace=other_workspace)
    response = api.post(
        POLICIES, {"name": "P", "territory": foreign.pk, "respond_within_minutes": 5},
        format="json",
    )  # fmt: skip
    assert response.status_code == 400 and "territory" in response.json()
    mine = api.post(POLICIES, {"name": "P", "respond_within_minutes": 5}, format="json").json()
    assert other_api.get(f"{POLICIES}{mine['id']}/").status_code == 404
    assert other_api.delete(f"{POLICIES}{mine['id']}/").status_code == 404
    manager = user_client(workspace, role="manager")
    assert (
        manager.patch(f"{POLICIES}{mine['id']}/", {"name": "x"}, format="json").status_code == 403
    )


# --- the allocation read and acceptance -------------------------------------------------------


def test_an_allocation_under_a_policy_reads_its_sla(api, workspace, team):
    made = allocate(api)
    assert made["sla"] is None  # the clock starts with the sweep (every minute)
    sla_sweep()
    read = api.get(f"/api/v1/allocations/{made['id']}/").json()
    created = Allocation.objects.get(pk=made["id"]).created_at
    assert read["sla"]["accepted_at"] is None and read["sla"]["breached_at"] is None
    due = read["sla"]["due_at"].replace("Z", "+00:00")
    assert due == (created + timedelta(minutes=60)).isoformat()
    history = api.get("/api/v1/allocations/").json()["results"]
    assert history[0]["sla"] == read["sla"]


def test_accepting_stops_the_clock_once(api, workspace, team):
    made = allocate(api)
    accepted = api.post(f"/api/v1/allocations/{made['id']}/accept/")
    assert accepted.status_code == 200
    first = accepted.json()["sla"]["accepted_at"]
    assert first is not None and accepted.json()["sla"]["due_at"] is not None
    again = api.post(f"/api/v1/allocations/{made['id']}/accept/")
    assert again.status_code == 200 and again.json()["sla"]["accepted_at"] == first
    clock = SlaClock.objects.get(allocation_id=made["id"])
    assert clock.accepted_via == "api"
    sla_sweep(now=timezone.now() + timedelta(hours=5))
    clock.refresh_from_db()
    assert clock.breached_at is None  # accepted: never breached


def test_only_the_owner_or_a_manager_accepts(workspace, team, api):
    made = allocate(api)
    owner_id = made["owner"]["id"]
    url = f"/api/v1/allocations/{made['id']}/accept/"

    def person(role, member_id=None):
        from rest_framework.test import APIClient

        membership = MembershipFactory(workspace=workspace, role=role, member_id=member_id)
        client = APIClient()
        client.force_login(membership.user)
        return client

    assert person("viewer").post(url).status_code == 403
    someone_else = next(r for r in team.reps if r.pk != owner_id)
    assert person("rep", someone_else.pk).post(url).status_code == 403
    assert person("rep", owner_id).post(url).status_code == 200
    assert person("manager").post(url).status_code == 200


def test_accept_attacks(api, other_api, workspace, team):
    made = allocate(api)
    assert other_api.post(f"/api/v1/allocations/{made['id']}/accept/").status_code == 404
    assert api.post("/api/v1/allocations/999999999/accept/").status_code == 404
    assert api.post("/api/v1/allocations/abc/accept/").status_code == 404
    replaced = allocate(api)  # the same record again: the first entry is no longer current
    stale = api.post(f"/api/v1/allocations/{made['id']}/accept/")
    assert stale.status_code == 409
    assert api.post(f"/api/v1/allocations/{replaced['id']}/accept/").status_code == 200
    queued = AllocationFactory(workspace=workspace, status="unassigned", owner=None)
    assert api.post(f"/api/v1/allocations/{queued.pk}/accept/").status_code == 400
    read_only = api.__class__(
        __import__("tests.factories", fromlist=["api_key_for"]).api_key_for(workspace, "read"),
        workspace,
    )
    assert read_only.post(f"/api/v1/allocations/{replaced['id']}/accept/").status_code == 403


# --- time to accept ---------------------------------------------------------------------------


def test_time_to_accept_per_member_and_territory(api, workspace, team):
    rep = team.reps[0]
    now = timezone.now()
    for minutes in (10, 20, 30, 40, 100):
        entry = AllocationFactory(workspace=workspace, owner=rep, territory=team.territory)
        SlaClock.objects.create(
            workspace=workspace, allocation=entry, owner=rep,
            territory_id_at_start=team.territory.pk, started_at=now - timedelta(minutes=minutes),
            accepted_at=now,
        )  # fmt: skip
    by_member = api.get("/api/v1/analytics/time-to-accept/").json()
    assert by_member == [
        {"id": rep.pk, "name": rep.name, "accepted": 5, "p50_minutes": 30.0, "p90_minutes": 76.0}
    ]
    by_territory = api.get("/api/v1/analytics/time-to-accept/?by=territory").json()
    assert by_territory[0]["id"] == team.territory.pk and by_territory[0]["accepted"] == 5
    later = (now + timedelta(minutes=1)).isoformat().replace("+00:00", "Z")
    assert api.get(f"/api/v1/analytics/time-to-accept/?since={later}").json() == []
    assert api.get("/api/v1/analytics/time-to-accept/?by=planet").status_code == 400
    assert api.get("/api/v1/analytics/time-to-accept/?since=yesterday").status_code == 400


def test_members_carry_working_hours(api, workspace):
    member = MemberFactory(workspace=workspace)
    url = f"/api/v1/members/{member.pk}/"
    hours = {"mon": [["09:00", "12:00"], ["13:00", "17:00"]], "fri": [["09:00", "15:00"]]}
    assert api.patch(url, {"working_hours": hours}, format="json").json()["working_hours"] == hours
    bad = api.patch(url, {"working_hours": {"mon": [["17:00", "09:00"]]}}, format="json")
    assert bad.status_code == 400 and "working_hours" in bad.json()
