"""The replay pages without a browser: who may start a replay, the window's errors, the
moves paginated, the CSV download, and another workspace's plan or job as a 404."""

import csv
import io

from jobs import services as job_services
from jobs.models import Job
from replay.services import replay_start
from replay.views import MOVES_PAGE_SIZE
from tests.replay.factories import at, hand_example, history_bulk


def _url(plan, *rest) -> str:
    return f"/territories/plans/{plan.pk}/replay/" + "".join(f"{part}/" for part in rest)


def _finished_replay(example, **window):
    job = replay_start(
        plan=example.plan,
        since=window.get("since", example.since),
        until=window.get("until", example.until),
        actor_label="test",
    )
    job_services.job_run_inline(job_id=job.pk)
    return job


def test_a_manager_starts_a_replay_from_the_form(workspace, user_client):
    example = hand_example(workspace)
    client = user_client(workspace, role="manager")

    response = client.post(
        _url(example.plan), {"since": "2026-03-02T00:00", "until": "2026-03-04T00:00"}
    )

    job = Job.objects.get(kind="replay")
    assert response.status_code == 302
    assert response["Location"] == _url(example.plan, job.pk)
    assert job.params["plan"] == example.plan.pk


def test_a_viewer_sees_the_page_but_cannot_start_a_replay(workspace, user_client):
    example = hand_example(workspace)
    client = user_client(workspace, role="viewer")

    page = client.get(_url(example.plan))
    refused = client.post(
        _url(example.plan), {"since": "2026-03-02T00:00", "until": "2026-03-04T00:00"}
    )

    assert page.status_code == 200
    assert b"needs the manager role" in page.content
    assert refused.status_code == 403
    assert not Job.objects.exists()


def test_a_bad_window_is_shown_under_its_field(workspace, user_client):
    example = hand_example(workspace)
    client = user_client(workspace, role="admin")

    response = client.post(_url(example.plan), {"since": "soon", "until": ""})

    assert response.status_code == 400
    assert b'data-testid="error-since"' in response.content
    assert b'data-testid="error-until"' in response.content
    assert not Job.objects.exists()


def test_the_moves_are_paginated_and_downloadable(workspace, user_client):
    example = hand_example(workspace)
    history_bulk(
        workspace=workspace,
        territory=example.territory,
        owners=[example.bo],
        n=120,
        start=at(10, 0),
    )
    job = _finished_replay(example, since=at(10, 0), until=at(10, 1))
    client = user_client(workspace, role="viewer")

    first = client.get(_url(example.plan, job.pk))
    last = client.get(_url(example.plan, job.pk) + "?page=2")
    download = client.get(_url(example.plan, job.pk) + "moves.csv")

    # 60 rows in the hour, all really Bo's; replayed, Bo takes 2 (his daily cap) and the
    # 58 others go to Ada and Cy: more than a page.
    moved = Job.objects.get(pk=job.pk).result["moved"]
    assert moved == 58
    assert first.content.count(b'data-testid="move"') == MOVES_PAGE_SIZE
    assert last.content.count(b'data-testid="move"') == moved - MOVES_PAGE_SIZE
    assert b"Page 2 of 2" in last.content
    rows = list(csv.DictReader(io.StringIO(b"".join(download.streaming_content).decode())))
    assert len(rows) == moved
    assert {row["actual_owner"] for row in rows} == {"Bo"}


def test_another_workspaces_plan_and_job_are_404(workspace, other_workspace, user_client):
    example = hand_example(workspace)
    job = _finished_replay(example)
    outsider = user_client(other_workspace, role="admin")

    assert outsider.get(_url(example.plan)).status_code == 404
    assert outsider.get(_url(example.plan, job.pk)).status_code == 404
    assert outsider.get(_url(example.plan, job.pk) + "moves.csv").status_code == 404
    assert (
        outsider.post(
            _url(example.plan), {"since": "2026-03-02T00:00", "until": "2026-03-04T00:00"}
        ).status_code
        == 404
    )
    assert Job.objects.count() == 1
