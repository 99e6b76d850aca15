"""POST /api/v1/allocations/{id}/reassign/ and its dry check: one current entry per record,
409 for an entry that is no longer current, and the new owner's eligibility and capacity
respected unless a caller who may override says so."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from allocation.models import Allocation
from tests.allocation.factories import AllocationFactory
from tests.capacities.factories import CapacityFactory, allocate_to
from tests.factories import AbsenceFactory, MemberFactory, TerritoryFactory, TerritorySlotFactory

URL = "/api/v1/allocations/"


def reassign(client, entry_id, member_id, **extra):
    body = {"member": member_id, "reason": "territory swap", **extra}
    return client.post(f"{URL}{entry_id}/reassign/", body, format="json")


def current_entries(workspace, record_id):
    return list(
        Allocation.objects.filter(
            workspace=workspace, record_id=record_id, is_current=True
        ).values_list("pk", flat=True)
    )


@pytest.fixture
def entry(workspace):
    return AllocationFactory(workspace=workspace, record_id="00Q1")


@pytest.fixture
def rep(workspace):
    return MemberFactory(workspace=workspace, name="Nia New")


# --- one current entry per record ------------------------------------------------------------


def test_reassigning_a_replaced_entry_is_409_naming_the_current_one(api, workspace, entry, rep):
    first = reassign(api, entry.pk, rep.pk)
    assert first.status_code == 201
    other = MemberFactory(workspace=workspace)
    again = reassign(api, entry.pk, other.pk)
    assert again.status_code == 409
    assert again.json()["current"] == first.json()["id"]
    assert str(first.json()["id"]) in again.json()["detail"]
    assert current_entries(workspace, "00Q1") == [first.json()["id"]]


def test_an_entry_replaced_by_a_new_allocation_is_409_too(api, workspace, rep):
    territory = TerritoryFactory(workspace=workspace)
    TerritorySlotFactory(territory=territory, member=MemberFactory(workspace=workspace))
    record = {"record": {"type": "lead", "id": "00Q9", "fields": {}}}
    old = api.post(URL, record, format="json").json()
    new = api.post(URL, record, format="json").json()
    response = reassign(api, old["id"], rep.pk)
    assert (response.status_code, response.json()["current"]) == (409, new["id"])
    assert current_entries(workspace, "00Q9") == [new["id"]]


def test_a_record_without_id_follows_its_chain_of_reassignments(api, workspace, rep):
    entry = AllocationFactory(workspace=workspace, record_id="")
    second = reassign(api, entry.pk, rep.pk).json()["id"]
    third = reassign(api, second, MemberFactory(workspace=workspace).pk).json()["id"]
    stale = reassign(api, entry.pk, MemberFactory(workspace=workspace).pk)
    assert (stale.status_code, stale.json()["current"]) == (409, third)
    chain = Allocation.objects.filter(pk__in=[entry.pk, second, third])
    assert list(chain.filter(is_current=True).values_list("pk", flat=True)) == [third]


def test_reassigning_to_the_current_owner_is_400(api, entry):
    response = reassign(api, entry.pk, entry.owner_id)
    assert response.status_code == 400
    assert "already owns" in response.json()["member"][0]


# --- eligibility and capacity of the new owner -----------------------------------------------


def test_a_member_at_capacity_is_refused_naming_member_and_the_capacity(api, workspace, rep):
    CapacityFactory(member=rep, limit=1)
    allocate_to(rep, 1)
    entry = AllocationFactory(workspace=workspace)
    response = reassign(api, entry.pk, rep.pk)
    assert response.status_code == 400
    assert list(response.json()) == ["member"]
    assert "day capacity 1/1" in response.json()["member"][0]
    assert Allocation.objects.filter(owner=rep).count() == 1
    assert Allocation.objects.get(pk=entry.pk).is_current


def test_a_capacity_for_other_record_types_does_not_refuse(api, workspace, rep):
    CapacityFactory(member=rep, limit=1, record_types=["account"])
    allocate_to(rep, 1, record_type="account")
    entry = AllocationFactory(workspace=workspace, record_type="lead")
    assert reassign(api, entry.pk, rep.pk).status_code == 201


def test_an_inactive_member_is_refused(api, workspace, entry):
    inactive = MemberFactory(workspace=workspace, is_active=False)
    response = reassign(api, entry.pk, inactive.pk)
    assert response.status_code == 400
    assert "inactive" in response.json()["member"][0]
    assert current_entries(workspace, "00Q1") == [entry.pk]


def test_an_absent_member_is_refused_saying_until_when(api, workspace, entry, rep):
    back = datetime(2099, 3, 4, 9, 30, tzinfo=UTC)
    AbsenceFactory(member=rep, starts_at=timezone.now() - timedelta(days=1), ends_at=back)
    response = reassign(api, entry.pk, rep.pk)
    assert response.status_code == 400
    assert "absent (time off) until 2099-03-04 09:30 UTC" in response.json()["member"][0]


def test_a_member_of_another_workspace_is_400_and_its_entry_404(
    api, other_api, workspace, other_workspace, entry
):
    stranger = MemberFactory(workspace=other_workspace)
    response = reassign(api, entry.pk, stranger.pk)
    assert (response.status_code, list(response.json())) == (400, ["member"])
    assert reassign(other_api, entry.pk, stranger.pk).status_code == 404
    check = other_api.get(f"{URL}{entry.pk}/reassign-check/", {"member": stranger.pk})
    assert check.status_code == 404
    assert current_entries(workspace, "00Q1") == [entry.pk]


# --- override -----------------------------------------------------------------------------


def test_a_write_key_overrides_and_the_trace_records_what_it_overrode(api, workspace, rep):
    CapacityFactory(member=rep, limit=1)
    allocate_to(rep, 1)
    entry = AllocationFactory(workspace=workspace)
    response = reassign(api, entry.pk, rep.pk, override=True)
    assert response.status_code == 201
    body = response.json()
    assert body["owner"]["id"] == rep.pk
    override, step = body["decision"]
    assert (override["step"], override["member"], override["outcome"]) == (
        "eligibility",
        rep.pk,
        "overridden",
    )
    assert "day capacity 1/1" in override["detail"]
    assert "api key" in override["detail"]
    assert step["step"] == "reassign"


def test_override_of_an_eligible_member_records_no_override(api, entry, rep):
    body = reassign(api, entry.pk, rep.pk, override=True).json()
    assert [s["step"] for s in body["decision"]] == ["reassign"]


def test_a_key_without_write_scope_may_not_override(make_client, workspace, rep):
    client = make_client(workspace, scopes="allocate")
    inactive = MemberFactory(workspace=workspace, is_active=False)
    entry = AllocationFactory(workspace=workspace)
    response = reassign(client, entry.pk, inactive.pk, override=True)
    assert response.status_code == 403
    assert "write" in response.json()["detail"]
    assert reassign(client, entry.pk, inactive.pk).status_code == 400
    assert reassign(client, entry.pk, rep.pk).status_code == 201
    assert not Allocation.objects.filter(owner=inactive).exists()


@pytest.mark.parametrize("role", ["manager", "admin"])
def test_a_manager_or_admin_session_may_override(user_client, workspace, role):
    boss = MemberFactory(workspace=workspace)  # the manager is the boss of both reps
    full = MemberFactory(workspace=workspace, manager=boss)
    CapacityFactory(member=full, limit=1)
    allocate_to(full, 1)
    entry = AllocationFactory(workspace=workspace, owner__manager=boss)
    client = user_client(workspace, role=role, member=boss)
    assert reassign(client, entry.pk, full.pk).status_code == 400
    response = reassign(client, entry.pk, full.pk, override=True)
    assert response.status_code == 201
    assert f"user {client.user.username}" in response.json()["decision"][0]["detail"]


def test_a_viewer_may_not_reassign_at_all(user_client, workspace, entry, rep):
    client = user_client(workspace, role="viewer")
    assert reassign(client, entry.pk, rep.pk, override=True).status_code == 403
    assert client.get(f"{URL}{entry.pk}/reassign-check/", {"member": rep.pk}).status_code == 403


# --- the dry check ------------------------------------------------------------------------


def test_the_dry_check_says_why_not_and_whether_the_caller_may_override(
    api, make_client, workspace, entry, rep
):
    url = f"{URL}{entry.pk}/reassign-check/"
    assert api.get(url, {"member": rep.pk}).json() == {
        "member": rep.pk,
        "available": True,
        "problem": None,
        "may_override": True,
        "current": entry.pk,
    }
    CapacityFactory(member=rep, limit=1)
    allocate_to(rep, 1)
    allocate_only = make_client(workspace, scopes="allocate")
    body = allocate_only.get(url, {"member": rep.pk}).json()
    assert (body["available"], body["problem"], body["may_override"]) == (
        False,
        "day capacity 1/1",
        False,
    )
    assert Allocation.objects.filter(owner=rep).count() == 1  # nothing written


@pytest.mark.parametrize("query", [{}, {"member": "x"}, {"member": 0}, {"member": 2**70}])
def test_the_dry_check_needs_a_member(api, entry, query):
    response = api.get(f"{URL}{entry.pk}/reassign-check/", query)
    assert (response.status_code, list(response.json())) == (400, ["member"])
