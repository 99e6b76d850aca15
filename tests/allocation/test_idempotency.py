"""Idempotency keys replay for 24 h; after that a key starts afresh, and a periodic task
purges the expired rows."""

import json
import threading
import urllib.error
import urllib.request
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from django_celery_beat.models import PeriodicTask
from django_celery_beat.schedulers import DatabaseScheduler

from allocation import services
from allocation.models import Allocation, IdempotencyRecord
from allocation.tasks import idempotency_purge
from revorg.celery import app as celery_app
from tests.factories import (
    MemberFactory,
    TerritoryFactory,
    TerritorySlotFactory,
    WorkspaceFactory,
    api_key_for,
)

URL = "/api/v1/allocations/"


def body(key: str, **fields) -> dict:
    return {"record": {"type": "lead", "fields": fields}, "idempotency_key": key}


def age(key: str, hours: float) -> None:
    IdempotencyRecord.objects.filter(key=key).update(
        created_at=timezone.now() - timedelta(hours=hours)
    )


@pytest.fixture
def reps(workspace):
    territory = TerritoryFactory(workspace=workspace)
    members = [MemberFactory(workspace=workspace) for _ in range(2)]
    for member in members:
        TerritorySlotFactory(territory=territory, member=member)
    return members


def test_a_key_older_than_24_hours_starts_a_new_allocation(api, reps):
    first = api.post(URL, body("run:1"), format="json")
    assert first.status_code == 201
    age("run:1", 24.5)
    again = api.post(URL, body("run:1"), format="json")
    assert again.status_code == 201
    assert again.json()["id"] != first.json()["id"]
    assert again.json()["owner"]["id"] == reps[1].pk  # a real decision: the rotation moved
    assert Allocation.objects.count() == 2
    stored = IdempotencyRecord.objects.get()
    assert stored.response["id"] == again.json()["id"]
    assert stored.created_at > timezone.now() - timedelta(minutes=1)
    replay = api.post(URL, body("run:1"), format="json")
    assert (replay.status_code, replay.json()) == (200, again.json())


def test_an_expired_key_may_come_back_with_another_body(api, reps):
    assert api.post(URL, body("run:2", country="US"), format="json").status_code == 201
    age("run:2", 25)
    response = api.post(URL, body("run:2", country="FR"), format="json")
    assert response.status_code == 201
    assert response.json()["record"]["fields"] == {"country": "FR"}
    conflict = api.post(URL, body("run:2", country="US"), format="json")
    assert conflict.status_code == 409


def test_a_key_just_under_24_hours_still_replays(api, reps):
    first = api.post(URL, body("run:3"), format="json").json()
    age("run:3", 23.9)
    replay = api.post(URL, body("run:3"), format="json")
    assert (replay.status_code, replay.json()) == (200, first)
    assert Allocation.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_an_expired_key_make_exactly_one_allocation(live_server):
    """Eight clients send the same expired key at once, five rounds: one allocation each
    round (201), the others replay it (200), never a 500, one idempotency row per key."""
    workspace = WorkspaceFactory()
    territory = TerritoryFactory(workspace=workspace)
    for _ in range(3):
        TerritorySlotFactory(territory=territory, member=MemberFactory(workspace=workspace))
    key = api_key_for(workspace)

    def post(payload: dict) -> tuple[int, dict]:
        request = urllib.request.Request(
            f"{live_server.url}{URL}",
            data=json.dumps(payload).encode(),
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, {"error": error.read().decode()[:200]}

    for round_ in range(5):
        idempotency_key = f"round:{round_}"
        assert post(body(idempotency_key))[0] == 201
        age(idempotency_key, 30)
        payload = body(idempotency_key)
        barrier = threading.Barrier(8)
        results = []

        def racer(payload=payload, barrier=barrier, results=results):
            barrier.wait()
            results.append(post(payload))

        threads = [threading.Thread(target=racer) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        statuses = sorted(status for status, _ in results)
        assert statuses == [200] * 7 + [201], results
        created = next(data for status, data in results if status == 201)
        assert all(data == created for _, data in results)
        assert IdempotencyRecord.objects.get(key=idempotency_key).response == created
    assert Allocation.objects.count() == 10


def test_the_purge_task_deletes_only_expired_rows(workspace, other_workspace):
    for ws in (workspace, other_workspace):
        for name, hours in (("old", 48), ("just-expired", 24.1), ("live", 23.5), ("new", 0)):
            IdempotencyRecord.objects.create(
                workspace=ws, key=name, request_hash="h", response={"id": 1}
            )
            IdempotencyRecord.objects.filter(workspace=ws, key=name).update(
                created_at=timezone.now() - timedelta(hours=hours)
            )
    assert idempotency_purge.delay().get() == 4
    remaining = IdempotencyRecord.objects.values_list("workspace_id", "key")
    assert sorted(remaining) == sorted(
        (ws.pk, name) for ws in (workspace, other_workspace) for name in ("live", "new")
    )


def test_the_purge_runs_in_batches_until_none_is_left(workspace):
    IdempotencyRecord.objects.bulk_create(
        IdempotencyRecord(workspace=workspace, key=f"k{i}", request_hash="h", response={})
        for i in range(7)
    )
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(days=2))
    assert services.idempotency_purge(batch_size=3) == 7
    assert not IdempotencyRecord.objects.exists()


@pytest.mark.django_db(transaction=True)  # the scheduler closes the connection it finds
def test_beat_schedules_the_purge():
    """docker-compose's beat runs django-celery-beat's DatabaseScheduler, which installs
    CELERY_BEAT_SCHEDULE as periodic tasks at start."""
    entry = settings.CELERY_BEAT_SCHEDULE["allocation-idempotency-purge"]
    assert entry["task"] == idempotency_purge.name
    assert idempotency_purge.name in celery_app.tasks
    DatabaseScheduler(app=celery_app)
    task = PeriodicTask.objects.get(name="allocation-idempotency-purge")
    assert (task.task, task.enabled) == (idempotency_purge.name, True)
    assert (
        task.interval.every
        * {"seconds": 1, "minutes": 60, "hours": 3600}.get(task.interval.period, 0)
        == 3600
    )
