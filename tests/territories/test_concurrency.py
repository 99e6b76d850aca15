"""Simultaneous writes to one workspace's plans through the real HTTP stack (Django's
live_server: one thread and one database connection per request) on Postgres: plan
activations are serialised per workspace, tree edits per plan, and no race ends in a 500 or
in an inconsistent result. Each scenario runs several rounds."""

import json
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from territories.models import PlanStatus, Territory, TerritoryPlan
from tests.factories import (
    TerritoryFactory,
    TerritoryPlanFactory,
    WorkspaceFactory,
    active_plan,
    api_key_for,
)

pytestmark = pytest.mark.django_db(transaction=True)
ROUNDS = 8


def _send_together(requests: list[tuple[str, str, dict | None]], key: str) -> list[tuple]:
    """Sends every (method, url, body) at the same moment; (status, body) of each, in order."""
    barrier = threading.Barrier(len(requests))

    def send(spec):
        method, url, body = spec
        request = urllib.request.Request(
            url,
            data=json.dumps(body or {}).encode(),
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
            method=method,
        )
        barrier.wait()
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            payload = error.read()
            try:
                return error.code, json.loads(payload)
            except ValueError:
                return error.code, payload.decode(errors="replace")

    with ThreadPoolExecutor(len(requests)) as pool:
        return list(pool.map(send, requests))


def test_two_drafts_activated_at_once_leave_one_active_plan_and_no_500(live_server):
    """Two admins activate two different drafts at the same moment: the activations are
    serialised; the one that finds another plan activated while it waited gets 409 (it never
    saw that plan) and its draft stays a draft. Exactly one plan is active after each round."""
    workspace = WorkspaceFactory()
    key = api_key_for(workspace)
    refused = 0
    for _ in range(ROUNDS):
        previous = active_plan(workspace)
        drafts = [TerritoryPlanFactory(workspace=workspace) for _ in range(2)]
        results = _send_together(
            [
                ("POST", f"{live_server.url}/api/v1/territory-plans/{draft.pk}/activate/", None)
                for draft in drafts
            ],
            key,
        )
        codes = [code for code, _ in results]
        assert set(codes) <= {200, 409}, results
        assert 200 in codes, results
        active = list(TerritoryPlan.objects.filter(workspace=workspace, status="active"))
        assert len(active) == 1
        assert TerritoryPlan.objects.get(pk=previous.pk).status == PlanStatus.ARCHIVED
        for draft, (code, body) in zip(drafts, results, strict=True):
            draft.refresh_from_db()
            if code == 409:
                refused += 1
                assert draft.status == PlanStatus.DRAFT
                assert "activated at the same time" in body["detail"]
            else:
                assert draft.status in (PlanStatus.ACTIVE, PlanStatus.ARCHIVED)
        if codes == [200, 200]:  # one finished before the other started: sequential
            assert {d.status for d in drafts} == {PlanStatus.ACTIVE, PlanStatus.ARCHIVED}
    assert refused >= 1  # the race did happen in at least one round


def test_one_draft_activated_twice_at_once_is_activated_once(live_server):
    workspace = WorkspaceFactory()
    key = api_key_for(workspace)
    for _ in range(ROUNDS):
        draft = TerritoryPlanFactory(workspace=workspace)
        url = f"{live_server.url}/api/v1/territory-plans/{draft.pk}/activate/"
        results = _send_together([("POST", url, None), ("POST", url, None)], key)
        codes = sorted(code for code, _ in results)
        # The second request either saw the plan active already (400) or waited for it (409).
        assert codes in ([200, 400], [200, 409]), results
        assert TerritoryPlan.objects.filter(workspace=workspace, status="active").get() == draft


def _loops(field: str, start: Territory) -> bool:
    seen, cursor = set(), start
    while cursor is not None:
        if cursor.pk in seen:
            return True
        seen.add(cursor.pk)
        cursor = getattr(Territory.objects.get(pk=cursor.pk), field)
    return False


@pytest.mark.parametrize("field", ["parent", "fallback_territory"])
def test_simultaneous_patches_never_close_a_cycle(live_server, field):
    """A.field = B and B.field = A at the same moment: one is saved, the other is refused
    (400 naming the field), in every round."""
    workspace = WorkspaceFactory()
    key = api_key_for(workspace)
    plan = active_plan(workspace)
    for _ in range(ROUNDS):
        a = TerritoryFactory(workspace=workspace, plan=plan)
        b = TerritoryFactory(workspace=workspace, plan=plan)
        results = _send_together(
            [
                ("PATCH", f"{live_server.url}/api/v1/territories/{a.pk}/", {field: b.pk}),
                ("PATCH", f"{live_server.url}/api/v1/territories/{b.pk}/", {field: a.pk}),
            ],
            key,
        )
        assert sorted(code for code, _ in results) == [200, 400], results
        refusal = next(body for code, body in results if code == 400)
        assert "cycle" in refusal[field][0]
        assert not _loops(field, a) and not _loops(field, b)


def test_simultaneous_parent_patches_around_a_ring_never_close_it(live_server):
    """Four territories each made the child of the next at once: at most three succeed."""
    workspace = WorkspaceFactory()
    key = api_key_for(workspace)
    plan = active_plan(workspace)
    for _ in range(ROUNDS // 2):
        ring = [TerritoryFactory(workspace=workspace, plan=plan) for _ in range(4)]
        results = _send_together(
            [
                (
                    "PATCH",
                    f"{live_server.url}/api/v1/territories/{t.pk}/",
                    {"parent": ring[(i + 1) % 4].pk},
                )
                for i, t in enumerate(ring)
            ],
            key,
        )
        assert sorted(code for code, _ in results) == [200, 200, 200, 400], results
        assert not any(_loops("parent", t) for t in ring)


def test_simultaneous_patches_of_different_fields_both_apply(live_server):
    """One request moves a territory, another renames it at the same moment: neither writes
    back the stale value of the other's field."""
    workspace = WorkspaceFactory()
    key = api_key_for(workspace)
    plan = active_plan(workspace)
    parent = TerritoryFactory(workspace=workspace, plan=plan)
    for round_number in range(ROUNDS):
        territory = TerritoryFactory(workspace=workspace, plan=plan, priority=0)
        url = f"{live_server.url}/api/v1/territories/{territory.pk}/"
        results = _send_together(
            [
                ("PATCH", url, {"parent": parent.pk}),
                ("PATCH", url, {"priority": round_number + 1}),
            ],
            key,
        )
        assert [code for code, _ in results] == [200, 200], results
        territory.refresh_from_db()
        assert (territory.parent_id, territory.priority) == (parent.pk, round_number + 1)


def test_a_territory_added_to_a_draft_being_deleted_is_never_a_500(live_server):
    """Either the territory is created first (and goes with the plan) or the plan is gone
    first (and the creation is refused): never a half-deleted plan or a 500."""
    workspace = WorkspaceFactory()
    key = api_key_for(workspace)
    for _ in range(ROUNDS):
        draft = TerritoryPlanFactory(workspace=workspace)
        TerritoryFactory(workspace=workspace, plan=draft)
        results = _send_together(
            [
                ("POST", f"{live_server.url}/api/v1/territories/", {"plan": draft.pk, "name": "N"}),
                ("DELETE", f"{live_server.url}/api/v1/territory-plans/{draft.pk}/", None),
            ],
            key,
        )
        created, deleted = (code for code, _ in results)
        assert created in (201, 400, 409) and deleted == 204, results
        assert not TerritoryPlan.objects.filter(pk=draft.pk).exists()
        assert not Territory.objects.filter(plan_id=draft.pk).exists()
