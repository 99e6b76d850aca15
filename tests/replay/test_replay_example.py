"""Replay of a hand-computed example through a draft plan, with every count asserted.

The example (tests/replay/factories.py `hand_example`): round robin Ada → Bo → Cy, the
pointer at `since` on Bo (the last real allocation before the window), Bo capped at 2 a
day, Cy away from Mar 2 12:00 to Mar 3 00:00, no workspace default member. By hand:

  #  time        country  rotation after  →  replayed        really
  1  Mar 2 09:00 US       Bo                 Cy              Ada   moved
  2  Mar 2 10:00 US       Cy                 Ada             Ada
  3  Mar 2 11:00 US       Ada                Bo (1/2 today)  Ada   moved
  4  Mar 2 12:30 FR       –                  unassigned      Ada   moved (no territory)
  5  Mar 2 13:00 US       Bo: Cy away        Ada             Ada
  6  Mar 2 14:00 US       Ada                Bo (2/2 today)  Ada   moved
  7  Mar 2 15:00 US       Bo: Cy away        Ada             Ada
  8  Mar 2 16:00 US       Ada: Bo full, Cy away → Ada        Ada
  9  Mar 3 09:00 US       Ada: a new day     Bo (1/2)        Bo
 10  Mar 3 10:00 US       Bo: Cy is back     Cy              Ada   moved
 11  Mar 3 11:00 US       Cy                 Ada             Ada

Replayed: Ada 5, Bo 3, Cy 2, 1 unassigned; really: Ada 10, Bo 1, Cy 0."""

from allocation.models import Allocation, RotationState
from capacities.models import Capacity
from jobs import services as job_services
from jobs.models import Job, JobChunk
from replay.models import ReplayMove
from replay.services import replay_start
from tests.replay.factories import hand_example


def _replay(example, **window):
    job = replay_start(
        plan=example.plan,
        since=window.get("since", example.since),
        until=window.get("until", example.until),
        actor_label="test",
    )
    job_services.job_run_inline(job_id=job.pk)
    return Job.objects.get(pk=job.pk)


def test_replay_matches_the_hand_computed_example(workspace):
    example = hand_example(workspace)
    ada, bo, cy = example.ada, example.bo, example.cy

    job = _replay(example)

    assert job.status == "succeeded", job.errors
    result = job.result
    assert result["rows"] == 11
    assert result["unassigned"] == 1
    assert result["actual_unassigned"] == 0
    assert result["moved"] == 5
    assert [(m["name"], m["actual"], m["replayed"], m["delta"]) for m in result["members"]] == [
        ("Ada", 10, 5, -5),
        ("Bo", 1, 3, 2),
        ("Cy", 0, 2, 2),
    ]
    # Shares among Ada, Bo, Cy: 5/10, 3/10, 2/10; CV = population sd / mean.
    assert result["fairness"]["replayed"] == {"max_share": 0.5, "min_share": 0.2, "cv": 0.3742}
    assert result["fairness"]["actual"] == {"max_share": 0.9091, "min_share": 0.0, "cv": 1.2264}
    moves = list(ReplayMove.objects.filter(job=job).order_by("sequence"))
    rows = example.rows
    assert [
        (m.sequence, m.allocation_id, m.actual_owner_id, m.replayed_owner_id, m.replayed_status)
        for m in moves
    ] == [
        (1, rows[0].pk, ada.pk, cy.pk, "assigned"),
        (3, rows[2].pk, ada.pk, bo.pk, "assigned"),
        (4, rows[3].pk, ada.pk, None, "unassigned"),
        (6, rows[5].pk, ada.pk, bo.pk, "assigned"),
        (10, rows[9].pk, ada.pk, cy.pk, "assigned"),
    ]
    assert {m.replayed_territory_id for m in moves if m.replayed_owner_id} == {example.territory.pk}
    assert job.progress_done == job.progress_total == 11


def test_replay_writes_no_real_allocation_state(workspace):
    example = hand_example(workspace)
    history = list(Allocation.objects.values_list("id", "owner_id", "is_current", "created_at"))

    _replay(example)

    assert list(Allocation.objects.values_list("id", "owner_id", "is_current", "created_at")) == (
        history
    )
    assert not RotationState.objects.exists()
    assert Capacity.objects.count() == 1


def test_a_window_without_the_first_rows_starts_the_rotation_from_its_own_past(workspace):
    """From Mar 2 10:30 the last assigned allocation before `since` in a "US" territory is
    row 2 (Ada, really): the rotation resumes after Ada, so row 3 (11:00) goes to Bo."""
    example = hand_example(workspace)

    job = _replay(example, since=example.rows[2].created_at)

    first = ReplayMove.objects.filter(job=job).order_by("sequence").first()
    assert first.allocation_id == example.rows[2].pk
    assert first.replayed_owner_id == example.bo.pk


def test_a_resumed_replay_continues_from_its_checkpoint(workspace, settings):
    """A worker killed after its checkpoint at row 5 left the chunk's payload holding the
    state after row 5 and the moves of rows 1–5 committed with it (reproduced here from a
    replay of the window up to row 6, which ends in exactly that state). The re-queued chunk
    resumes after row 5: nothing is replayed twice and the result is the uninterrupted one."""
    settings.REPLAY_CHECKPOINT_ROWS = 4
    example = hand_example(workspace)
    whole = _replay(example)
    first_five = _replay(example, until=example.rows[5].created_at)
    checkpoint = first_five.chunks.get().payload["state"]
    assert checkpoint["rows"] == 5
    job = replay_start(
        plan=example.plan, since=example.since, until=example.until, actor_label="test"
    )
    (chunk_id,) = job_services.job_start(job_id=job.pk)
    JobChunk.objects.filter(pk=chunk_id).update(
        payload={**JobChunk.objects.get(pk=chunk_id).payload, "state": checkpoint}
    )
    for move in ReplayMove.objects.filter(job=first_five):
        move.pk, move.job_id = None, job.pk
        move.save()

    assert job_services.chunk_run(chunk_id=chunk_id) == "done"

    job.refresh_from_db()
    assert job.status == "succeeded"
    assert job.result == whole.result
    assert list(
        ReplayMove.objects.filter(job=job).values_list("sequence", "allocation_id")
    ) == list(ReplayMove.objects.filter(job=whole).values_list("sequence", "allocation_id"))


def test_a_long_replay_hands_over_to_new_tasks_and_ends_as_one(workspace, settings):
    """With no time allowed per task, every checkpoint (each 3 rows) hands the chunk over to
    a new task, which resumes from it: four tasks, one result, the uninterrupted one."""
    example = hand_example(workspace)
    whole = _replay(example)
    settings.REPLAY_CHECKPOINT_ROWS = 3
    settings.REPLAY_TASK_SECONDS = 0

    job = _replay(example)

    assert job.status == "succeeded", job.errors
    assert job.chunks.get().attempts == 4  # rows 1–3, 4–6, 7–9, 10–11
    assert job.result == whole.result
    assert job.progress_done == job.progress_total == 11
