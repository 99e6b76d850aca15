"""Simultaneous activation requests through the real HTTP stack (live_server, one thread and
connection per request) on Postgres: one wins, the other is a 409, never a 500, and the
workspace ends with one active plan and at most one scheduled plan."""

from datetime import timedelta

import pytest
from django.utils import timezone

from territories.models import TerritoryPlan
from tests.factories import TerritoryPlanFactory, WorkspaceFactory, active_plan, api_key_for
from tests.territories.test_concurrency import _send_together
from transitions.models import Activation

pytestmark = pytest.mark.django_db(transaction=True)
ROUNDS = 4


def test_two_plans_scheduled_at_once_one_wins_the_other_409(live_server):
    workspace = WorkspaceFactory()
    key = api_key_for(workspace)
    active_plan(workspace)
    when = (timezone.now() + timedelta(days=3)).isoformat()
    for _ in range(ROUNDS):
        drafts = [TerritoryPlanFactory(workspace=workspace) for _ in range(2)]
        results = _send_together(
            [
                ("POST", f"{live_server.url}/api/v1/territory-plans/{d.pk}/activate/",
                 {"effective_at": when, "transition": {"open_deals": "follow_territory"}})
                for d in drafts
            ],
            key,
        )  # fmt: skip
        assert sorted(code for code, _ in results) == [202, 409], results
        assert TerritoryPlan.objects.filter(workspace=workspace, status="scheduled").count() == 1
        assert Activation.objects.filter(workspace=workspace, status="scheduled").count() == 1
        [scheduled] = TerritoryPlan.objects.filter(workspace=workspace, status="scheduled")
        assert scheduled.pk in {d.pk for d in drafts}
        _, body = next(r for r in results if r[0] == 409)
        assert "scheduled" in body["detail"]
        key_url = f"{live_server.url}/api/v1/territory-plans/{scheduled.pk}/schedule/"
        assert _send_together([("DELETE", key_url, None)], key)[0][0] == 200


def test_scheduling_and_activating_now_at_once_leave_one_consistent_result(live_server):
    """One admin schedules a draft while another activates a second draft now: whichever
    wins, the other is refused (409) and nothing is half done."""
    workspace = WorkspaceFactory()
    key = api_key_for(workspace)
    when = (timezone.now() + timedelta(days=3)).isoformat()
    for _ in range(ROUNDS):
        active_plan(workspace)
        later, now = (
            TerritoryPlanFactory(workspace=workspace),
            TerritoryPlanFactory(workspace=workspace),
        )
        results = _send_together(
            [
                ("POST", f"{live_server.url}/api/v1/territory-plans/{later.pk}/activate/",
                 {"effective_at": when}),
                ("POST", f"{live_server.url}/api/v1/territory-plans/{now.pk}/activate/", None),
            ],
            key,
        )  # fmt: skip
        codes = [code for code, _ in results]
        assert 500 not in codes and all(c in (200, 202, 409) for c in codes), results
        later.refresh_from_db()
        now.refresh_from_db()
        assert TerritoryPlan.objects.filter(workspace=workspace, status="active").count() == 1
        assert (later.status == "scheduled") == (codes[0] == 202)
        assert (now.status == "active") == (codes[1] == 200)
        assert Activation.objects.filter(plan=now, status="activated").exists() == (codes[1] == 200)
        if later.status == "scheduled":
            url = f"{live_server.url}/api/v1/territory-plans/{later.pk}/schedule/"
            assert _send_together([("DELETE", url, None)], key)[0][0] == 200
