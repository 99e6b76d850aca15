"""Activation on real Celery workers over a real Redis broker, and scheduled activation by
a real `celery beat` (django-celery-beat's database scheduler, the production setting) with
the beat schedule entries of revorg.settings: each open-deal policy applied by the worker's
job, a plan scheduled a few seconds ahead activated by beat at its time, and an overlap that
ended dropped by beat's expiry task."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from book.models import AccountOverlay
from jobs.models import Job
from territories.models import TerritoryPlan
from tests.factories import WorkspaceFactory, api_key_for
from tests.transitions.factories import book_moving, owner_of
from tests.workers import wait_for

pytestmark = pytest.mark.skipif(
    not __import__("shutil").which("redis-server"), reason="needs redis-server"
)


@pytest.fixture
def celery(celery_processes):
    """Workers and beat that look for due transitions and expired overlays every second."""
    celery_processes.env.update(
        TRANSITIONS_DUE_INTERVAL_SECONDS=1, TRANSITIONS_OVERLAY_INTERVAL_SECONDS=1
    )
    return celery_processes


def _client(workspace):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_for(workspace)}")
    return client


def _finished(job_id):
    return lambda: Job.objects.get(pk=job_id).status in ("succeeded", "failed", "cancelled")


POLICIES = [
    # policy, extra settings, where the late (70 %) and early (20 %) deals end up
    ("follow_rep", {}, "old", "old"),
    ("follow_territory", {}, "new", "new"),
    ("stage_based", {"stage_threshold": {"probability": 60}}, "old", "new"),
    ("manual", {}, "old", "old"),  # both queued for a manager
]


def test_each_policy_is_applied_by_the_activation_job_on_a_real_worker(celery):
    celery.worker()
    for policy, extra, late_to, early_to in POLICIES:
        workspace = WorkspaceFactory()
        book = book_moving(workspace, accounts=3)
        response = _client(workspace).post(
            f"/api/v1/territory-plans/{book.draft.pk}/activate/",
            {"transition": {"open_deals": policy, "overlap_days": 30, **extra}},
            format="json",
        )
        assert response.status_code == 200, response.json()
        job_id = response.json()["activation"]["job"]["id"]
        assert wait_for(_finished(job_id)), f"{policy}: the job did not finish"
        job = Job.objects.get(pk=job_id)
        assert job.status == "succeeded", (policy, job.errors)
        assert job.result["accounts_moved"] == 3
        assert owner_of(book.late) == getattr(book, late_to).pk, policy
        assert owner_of(book.early) == getattr(book, early_to).pk, policy
        assert job.result["deals_queued"] == (2 if policy == "manual" else 0)
        assert AccountOverlay.objects.filter(account__workspace=workspace).count() == 3


def test_beat_activates_a_scheduled_plan_at_its_time_and_drops_ended_overlaps(
    celery,
):
    workspace = WorkspaceFactory()
    book = book_moving(workspace)
    when = timezone.now() + timedelta(seconds=6)
    response = _client(workspace).post(
        f"/api/v1/territory-plans/{book.draft.pk}/activate/",
        {"effective_at": when.isoformat(),
         "transition": {"open_deals": "follow_territory", "overlap_days": 30}},
        format="json",
    )  # fmt: skip
    assert response.status_code == 202
    celery.worker()
    celery.beat()

    def active():
        return TerritoryPlan.objects.get(pk=book.draft.pk).status == "active"

    assert wait_for(active), "beat did not activate the scheduled plan"
    plan = TerritoryPlan.objects.get(pk=book.draft.pk)
    assert plan.activated_at >= when  # not before its time
    job = Job.objects.get(kind="activate", workspace=workspace)
    assert wait_for(_finished(job.pk))
    assert Job.objects.get(pk=job.pk).status == "succeeded"
    assert owner_of(book.early) == book.new.pk
    overlays = AccountOverlay.objects.filter(account__workspace=workspace)
    assert overlays.count() == 2

    overlays.update(until=timezone.now() - timedelta(seconds=1))  # 30 days later
    assert wait_for(lambda: not overlays.exists(), seconds=30), "the overlap did not expire"
