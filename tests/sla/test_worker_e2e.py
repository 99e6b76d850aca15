"""The periodic tasks on real Celery workers over a real Redis broker: the SLA sweep acts on
a breach (twice queued on two workers at once, it still acts once) and an approved
reassignment request runs when its effective date has come."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from allocation.models import Allocation
from reassignments.models import ReassignmentRequest
from reassignments.tasks import execute_due_task
from sla.models import SlaClock
from sla.tasks import sla_sweep_task
from tests.allocation.factories import AllocationFactory
from tests.book.test_worker_e2e import workers
from tests.factories import MemberFactory, api_key_for
from tests.sla.conftest import LEAD, Team
from tests.workers import wait_for

__all__ = ["workers"]  # the fixture, shared with the book's worker tests

pytestmark = pytest.mark.skipif(
    not __import__("shutil").which("redis-server"), reason="needs redis-server"
)


def _overdue_entries(workspace, n):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_for(workspace)}")
    ids = []
    for i in range(n):
        body = {"record": {**LEAD["record"], "id": f"00W{i}"}}
        ids.append(client.post("/api/v1/allocations/", body, format="json").json()["id"])
    # Made three hours ago: the 60-minute clocks are past due now.
    Allocation.objects.filter(pk__in=ids).update(created_at=timezone.now() - timedelta(hours=3))
    return ids


def test_two_sweeps_on_two_workers_act_on_each_breach_once(workers, workspace):
    Team(workspace, reps=3)
    ids = _overdue_entries(workspace, 6)
    workers(), workers()
    sla_sweep_task.delay()
    sla_sweep_task.delay()
    assert wait_for(
        lambda: SlaClock.objects.filter(allocation_id__in=ids, breached_at__isnull=False).count()
        == 6
    )
    assert wait_for(lambda: not SlaClock.objects.filter(
        allocation_id__in=ids, breached_at__isnull=True).exists())  # fmt: skip
    for entry in Allocation.objects.filter(pk__in=ids):
        history = Allocation.objects.filter(workspace=workspace, record_id=entry.record_id)
        assert history.count() == 2
        successor = history.get(is_current=True)
        assert successor.owner_id != entry.owner_id and successor.reassigned_from_id == entry.pk


def test_an_approved_request_runs_on_a_worker_at_its_effective_date(workers, workspace):
    workspace.reassignment_approval = "none"
    workspace.save()
    old, new = MemberFactory(workspace=workspace), MemberFactory(workspace=workspace)
    entry = AllocationFactory(workspace=workspace, owner=old)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_for(workspace)}")
    made = client.post(
        "/api/v1/reassignment-requests/",
        {"allocations": [entry.pk], "to_member": new.pk, "reason": "handover",
         "effective_at": (timezone.now() + timedelta(seconds=2)).isoformat()},
        format="json",
    ).json()  # fmt: skip
    assert made["status"] == "approved"  # runs at its effective date (tests/reassignments)
    workers()

    def executed():
        execute_due_task.delay()  # as beat does every minute
        return wait_for(
            lambda: ReassignmentRequest.objects.get(pk=made["id"]).status == "executed", 2
        )

    assert wait_for(executed, 60, every=0.5)
    moved = Allocation.objects.get(workspace=workspace, reassigned_from=entry)
    assert moved.owner_id == new.pk and moved.is_current
