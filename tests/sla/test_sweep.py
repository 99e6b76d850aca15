"""The SLA sweep: reminders at the policy's point; on breach `reassign` (the engine's next
eligible member, never a previous owner of the record) or `escalate` (the owner's manager);
after `max_breaches` the unassigned queue with the admins alerted; overlapping sweeps act on
each clock once; an acceptance racing the sweep leaves one consistent result."""

import threading
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone
from rest_framework.test import APIClient

from allocation.models import Allocation
from sla.models import SlaClock
from sla.services import clocks_start, sla_sweep
from tests.factories import MemberFactory, MembershipFactory, api_key_for
from tests.sla.conftest import LEAD, Team

ALLOCATIONS = "/api/v1/allocations/"


def allocate(api, record_id="00Q1"):
    response = api.post(ALLOCATIONS, {"record": {**LEAD["record"], "id": record_id}}, format="json")
    assert response.status_code == 201, response.json()
    return Allocation.objects.get(pk=response.json()["id"])


def current(workspace, record_id="00Q1") -> Allocation:
    return Allocation.objects.get(workspace=workspace, record_id=record_id, is_current=True)


def past_due(entry: Allocation, hours=2):
    return entry.created_at + timedelta(hours=hours)


def test_a_reminder_goes_to_the_owner_at_the_policys_point_once(api, workspace, team, events):
    entry = allocate(api)
    sla_sweep(now=entry.created_at + timedelta(minutes=29))
    assert not [e for e in events if e[0] == "allocation.sla_warning"]
    sla_sweep(now=entry.created_at + timedelta(minutes=31))  # 50 % of 60 working minutes
    sla_sweep(now=entry.created_at + timedelta(minutes=32))
    warnings = [e for e in events if e[0] == "allocation.sla_warning"]
    assert len(warnings) == 1
    _, data, members = warnings[0]
    assert data["allocation"] == entry.pk and members == [entry.owner_id]
    assert SlaClock.objects.get(allocation=entry).reminded_at is not None


def test_breach_reassigns_to_a_member_who_never_owned_the_record(api, workspace, team, events):
    first = allocate(api)  # rep A (rotation)
    assert first.owner_id == team.reps[0].pk
    # A person moves it to rep B: B is now a previous owner too.
    reassigned = api.post(
        f"{ALLOCATIONS}{first.pk}/reassign/",
        {"member": team.reps[1].pk, "reason": "B knows them"},
        format="json",
    )
    assert reassigned.status_code == 201
    entry = current(workspace)
    result = sla_sweep(now=past_due(entry))
    assert result["breached"] == 1
    moved = current(workspace)
    assert moved.owner_id == team.reps[2].pk  # C: the only rep who never owned it
    assert moved.reassigned_from_id == entry.pk and moved.actor_label == "SLA sweep"
    steps = moved.decision
    assert steps[0]["step"] == "sla" and steps[0]["outcome"] == "breached"
    excluded = [s for s in steps if s.get("outcome") == "excluded"]
    assert {s["member"] for s in excluded} == {team.reps[0].pk, team.reps[1].pk}
    assert all("previous owner" in s["detail"] for s in excluded)
    old_clock = SlaClock.objects.get(allocation=entry)
    assert old_clock.breached_at is not None and "reassigned" in old_clock.outcome
    new_clock = SlaClock.objects.get(allocation=moved)
    assert new_clock.breaches == 1 and new_clock.due_at > old_clock.due_at
    breach_events = [e for e in events if e[0] == "allocation.sla_breached"]
    assert breach_events[0][1]["new_owner"] == team.reps[2].pk
    read = api.get(f"{ALLOCATIONS}{entry.pk}/").json()
    assert read["sla"]["breached_at"] is not None and read["state"] == "reassigned"


def test_with_nobody_left_who_never_owned_it_the_record_is_queued(workspace, events):
    team = Team(workspace, reps=1)
    admin_member = MemberFactory(workspace=workspace, name="Ada Admin")
    MembershipFactory(workspace=workspace, role="admin", member=admin_member)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_for(workspace)}")
    entry = allocate(api)
    sla_sweep(now=past_due(entry))
    queued = current(workspace)
    assert queued.status == "unassigned" and queued.owner_id is None
    breach = next(e for e in events if e[0] == "allocation.sla_breached")
    assert admin_member.pk in breach[2] and team.reps[0].pk in breach[2]


def test_escalate_gives_the_record_to_the_owners_manager(api, workspace):
    team = Team(workspace, on_breach="escalate")
    entry = allocate(api)
    sla_sweep(now=past_due(entry))
    escalated = current(workspace)
    assert escalated.owner_id == team.manager.pk
    assert [s["outcome"] for s in escalated.decision[:2]] == ["breached", "escalated"]


def test_escalation_without_a_manager_queues_the_record(api, workspace):
    team = Team(workspace, on_breach="escalate")
    for rep in team.reps:
        rep.manager = None
        rep.save(update_fields=["manager"])
    entry = allocate(api)
    sla_sweep(now=past_due(entry))
    assert current(workspace).status == "unassigned"
    assert "no manager" in SlaClock.objects.get(allocation=entry).outcome


def test_after_max_breaches_the_record_goes_to_the_unassigned_queue(api, workspace):
    team = Team(workspace, max_breaches=1, reps=3)
    entry = allocate(api)
    sla_sweep(now=past_due(entry))  # breach 1: reassigned
    second = current(workspace)
    assert second.owner_id is not None and second.owner_id != entry.owner_id
    sla_sweep(now=past_due(second, hours=3))  # breach 2 > max 1: queue
    last = current(workspace)
    assert last.status == "unassigned" and last.owner_id is None
    assert "more than 1 breaches" in last.reason
    assert SlaClock.objects.get(allocation=second).breaches == 1
    assert not SlaClock.objects.filter(allocation=last).exists()
    assert team.policy.max_breaches == 1


def test_a_clock_starts_only_for_entries_a_policy_covers(api, workspace, team):
    team.policy.record_types = ["contact"]
    team.policy.save()
    entry = allocate(api)
    sla_sweep(now=past_due(entry))
    assert not SlaClock.objects.filter(allocation=entry).exists()
    assert current(workspace).pk == entry.pk


def test_clocks_count_the_owners_working_hours(api, workspace, team):
    for rep in team.reps:
        rep.working_hours = {"mon": [["09:00", "10:00"]]}
        rep.timezone = "Europe/Paris"
        rep.save()
    entry = allocate(api)
    clocks_start(workspace_id=workspace.pk)
    due = SlaClock.objects.get(allocation=entry).due_at.astimezone(
        __import__("zoneinfo").ZoneInfo("Europe/Paris")
    )
    assert (due.weekday(), due.hour, due.minute) == (0, 10, 0)  # a Monday, end of the hour


def test_a_person_reassigning_first_closes_the_old_clock(api, workspace, team):
    entry = allocate(api)
    clocks_start(workspace_id=workspace.pk)
    api.post(
        f"{ALLOCATIONS}{entry.pk}/reassign/", {"member": team.reps[2].pk, "reason": "x"},
        format="json",
    )  # fmt: skip
    result = sla_sweep(now=past_due(entry, hours=1) - timedelta(minutes=1))
    assert result.get("breached", 0) == 0
    assert SlaClock.objects.get(allocation=entry).closed_at is not None


# --- concurrency: real parallel runs ---------------------------------------------------------


def _in_threads(*functions):
    errors, results = [], [None] * len(functions)
    barrier = threading.Barrier(len(functions))

    def run(index, function):
        try:
            barrier.wait()
            results[index] = function()
        except Exception as exc:  # reported by the test
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, f)) for i, f in enumerate(functions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    return results


@pytest.mark.django_db(transaction=True)
def test_overlapping_sweeps_act_on_each_breach_once(workspace, events):
    Team(workspace, reps=4)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_for(workspace)}")
    entries = [allocate(api, f"00Q{i}") for i in range(12)]
    later = max(e.created_at for e in entries) + timedelta(hours=2)
    _in_threads(*[lambda: sla_sweep(now=later)] * 3)
    for entry in entries:
        history = Allocation.objects.filter(workspace=workspace, record_id=entry.record_id)
        assert history.count() == 2  # the first entry and exactly one reassignment
        assert history.filter(is_current=True).count() == 1
    assert SlaClock.objects.filter(breached_at__isnull=False).count() == 12
    assert len([e for e in events if e[0] == "allocation.sla_breached"]) == 12


@pytest.mark.django_db(transaction=True)
def test_an_accept_racing_the_sweep_gives_one_consistent_result(workspace):
    Team(workspace, reps=3)
    key = api_key_for(workspace)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    entries = [allocate(api, f"00R{i}") for i in range(8)]
    later = max(e.created_at for e in entries) + timedelta(hours=2)
    clocks_start(workspace_id=workspace.pk)

    def accept_all():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
        return [client.post(f"{ALLOCATIONS}{e.pk}/accept/").status_code for e in entries]

    statuses, _ = _in_threads(accept_all, lambda: sla_sweep(now=later))
    for entry, status in zip(entries, statuses, strict=True):
        clock = SlaClock.objects.get(allocation=entry)
        moved = Allocation.objects.filter(reassigned_from=entry).exists()
        if status == 200:
            assert clock.accepted_at is not None and clock.breached_at is None and not moved
        else:
            assert status == 409
            assert clock.breached_at is not None and clock.accepted_at is None and moved
        assert (
            Allocation.objects.filter(
                workspace=workspace, record_id=entry.record_id, is_current=True
            ).count()
            == 1
        )
    assert timezone.now() < later  # the sweep's clock was the test's, not the wall's
