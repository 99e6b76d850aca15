"""`POST /territory-plans/{id}/replay/` through HTTP: a real Celery worker on a real Redis
runs the job (and resumes it after a SIGKILL), another workspace's plan is a 404, a key or
role without the right is a 403, a bad window is a 400 naming the field."""

import csv
import io
import os
import signal
import time
from datetime import timedelta

import pytest

from jobs import services as job_services
from jobs.models import Job
from replay.models import ReplayMove
from tests.replay.factories import at, hand_example, history_bulk
from tests.workers import wait_for

LEASE_SECONDS = 3
needs_redis = pytest.mark.skipif(
    not __import__("shutil").which("redis-server"), reason="needs redis-server"
)


def _url(plan) -> str:
    return f"/api/v1/territory-plans/{plan.pk}/replay/"


@pytest.fixture
def workers(celery_processes, settings):
    """`workers()` starts one more worker; replays checkpoint every 500 rows, leases of 3 s."""
    settings.JOBS_CHUNK_LEASE_SECONDS = LEASE_SECONDS
    celery_processes.env.update(JOBS_CHUNK_LEASE_SECONDS=LEASE_SECONDS, REPLAY_CHECKPOINT_ROWS=500)
    return celery_processes.worker


def _finished(api, job_id):
    def check():
        return api.get(f"/api/v1/jobs/{job_id}/").json()["status"] in (
            "succeeded",
            "failed",
            "cancelled",
        )

    return check


@needs_redis
def test_replay_over_http_on_a_real_worker(workers, workspace, api):
    example = hand_example(workspace)
    workers()

    response = api.post(
        _url(example.plan),
        {"since": "2026-03-02T00:00:00Z", "until": "2026-03-04T00:00:00Z"},
        format="json",
    )

    assert response.status_code == 202, response.content
    body = response.json()
    assert (body["kind"], body["status"]) == ("replay", "queued")
    assert wait_for(_finished(api, body["id"]), seconds=60), "the replay did not finish"
    job = api.get(f"/api/v1/jobs/{body['id']}/").json()
    assert job["status"] == "succeeded", job["errors"]
    assert job["progress"] == {"done": 11, "total": 11}
    result = job["result"]
    assert (result["rows"], result["moved"], result["unassigned"]) == (11, 5, 1)
    assert {m["name"]: (m["actual"], m["replayed"]) for m in result["members"]} == {
        "Ada": (10, 5),
        "Bo": (1, 3),
        "Cy": (0, 2),
    }
    download = api.get(f"/api/v1/jobs/{body['id']}/replay-moves.csv")
    assert download.status_code == 200
    assert download["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(download.streaming_content).decode())))
    assert [(r["record_id"], r["actual_owner"], r["replayed_owner"]) for r in rows] == [
        ("L1", "Ada", "Cy"),
        ("L3", "Ada", "Bo"),
        ("L4", "Ada", ""),
        ("L6", "Ada", "Bo"),
        ("L10", "Ada", "Cy"),
    ]


@needs_redis
def test_a_worker_killed_mid_replay_resumes_from_its_checkpoint(workers, workspace, api):
    """20,000 rows, a checkpoint every 500: the first worker is killed after a checkpoint;
    the sweeper re-queues the chunk and a second worker resumes from the checkpoint. The
    result is the one an uninterrupted replay gives, and no row is replayed twice."""
    example = hand_example(workspace)
    start = at(10, 0)
    history_bulk(
        workspace=workspace,
        territory=example.territory,
        owners=[example.ada, example.bo],
        n=20_000,
        start=start,
    )
    window = {"since": start.isoformat(), "until": (start + timedelta(days=30)).isoformat()}
    first = workers()
    job_id = api.post(_url(example.plan), window, format="json").json()["id"]
    assert wait_for(lambda: Job.objects.get(pk=job_id).progress_done >= 1000), "no progress"
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    job = Job.objects.get(pk=job_id)
    assert job.status == "running"
    assert job.progress_done < 20_000, "the worker finished before it was killed"

    workers()
    time.sleep(LEASE_SECONDS + 0.5)  # the killed worker's lease runs out
    assert job_services.job_sweep()["requeued"] == 1
    assert wait_for(_finished(api, job_id)), "the replay was not finished"
    job.refresh_from_db()
    assert job.status == "succeeded", job.errors
    assert job.chunks.get().attempts == 2

    again = api.post(_url(example.plan), window, format="json").json()["id"]
    assert wait_for(_finished(api, again))
    uninterrupted = Job.objects.get(pk=again)
    assert job.result["rows"] == 20_000
    assert job.result == uninterrupted.result
    assert list(
        ReplayMove.objects.filter(job_id=job_id).values_list("sequence", "replayed_owner_id")
    ) == list(ReplayMove.objects.filter(job_id=again).values_list("sequence", "replayed_owner_id"))


def test_another_workspaces_plan_is_a_404(workspace, other_api):
    example = hand_example(workspace)

    response = other_api.post(
        _url(example.plan),
        {"since": "2026-03-02T00:00:00Z", "until": "2026-03-04T00:00:00Z"},
        format="json",
    )

    assert response.status_code == 404
    assert not Job.objects.exists()


def test_a_read_only_key_and_a_viewer_are_refused(workspace, make_client, user_client):
    example = hand_example(workspace)
    window = {"since": "2026-03-02T00:00:00Z", "until": "2026-03-04T00:00:00Z"}

    read_only = make_client(workspace, scopes="read").post(
        _url(example.plan), window, format="json"
    )
    viewer = user_client(workspace, role="viewer").post(_url(example.plan), window, format="json")
    rep = user_client(workspace, role="rep").post(_url(example.plan), window, format="json")
    manager = user_client(workspace, role="manager").post(_url(example.plan), window, format="json")

    assert (read_only.status_code, viewer.status_code, rep.status_code) == (403, 403, 403)
    assert manager.status_code == 202
    assert Job.objects.count() == 1


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"until": "2026-03-04T00:00:00Z"}, "since"),
        ({"since": "2026-03-02T00:00:00Z"}, "until"),
        ({"since": "yesterday", "until": "2026-03-04T00:00:00Z"}, "since"),
        ({"since": "2026-03-02T00:00:00Z", "until": 20260304}, "until"),
        ({"since": "2026-03-04T00:00:00Z", "until": "2026-03-02T00:00:00Z"}, "until"),
        ({"since": "2026-03-02T00:00:00Z", "until": "2026-03-02T00:00:00Z"}, "until"),
    ],
)
def test_a_bad_window_is_a_400_naming_the_field(workspace, api, payload, field):
    example = hand_example(workspace)

    response = api.post(_url(example.plan), payload, format="json")

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert not Job.objects.exists()


def test_moves_csv_of_a_job_that_is_no_replay_is_a_400(workspace, api, other_api):
    job = Job.objects.create(workspace=workspace, kind="import", handler="book.accounts_import")

    assert api.get(f"/api/v1/jobs/{job.pk}/replay-moves.csv").status_code == 400
    assert other_api.get(f"/api/v1/jobs/{job.pk}/replay-moves.csv").status_code == 404
