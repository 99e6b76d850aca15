"""Replay jobs: the allocation history of a window run through a plan, nothing real written.

Replay is sequential by nature (each decision moves the rotation pointers and capacity
counters the next one reads), so a replay job is one chunk whose worker walks the history in
time order, and every `REPLAY_CHECKPOINT_ROWS` rows commits, in one transaction, the moves of
those rows and the whole simulated state (pointers, capacity counters, counts, position in
the history) as the chunk's payload. A killed worker's chunk is re-queued by the sweeper
when its lease expires and resumes from the last checkpoint; a long replay hands itself over
to a new task every `REPLAY_TASK_SECONDS` (`jobs.services.ChunkContinues`), so no task
reaches Celery's time limit."""

import json
import logging
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction

from allocation.models import Allocation, AllocationStatus
from capacities.models import Capacity, Source
from jobs import services as job_services
from jobs.models import Job, JobChunk, JobKind
from jobs.registry import JobHandler
from members.models import Absence, Member
from revorg.errors import ApplicationError
from revorg.rawsql import placeholders
from territories import rules
from territories.models import SlotRole, Territory, TerritoryPlan, TerritorySlot
from territories.selectors import matcher_for_plan

from .engine import (
    HistoryRow,
    ReplayCapacity,
    Replayer,
    ReplayMember,
    ReplayState,
    RotationSnapshot,
    fairness,
)
from .models import ReplayMove

logger = logging.getLogger(__name__)

REPLAY = "replay.replay"
# How far before `since` the rotation pointers are looked for: a territory with no
# allocation in that time starts its rotation from the first member.
POINTER_LOOKBACK = timedelta(days=90)


def _checkpoint_rows() -> int:
    return settings.REPLAY_CHECKPOINT_ROWS


def _task_seconds() -> float:
    return settings.REPLAY_TASK_SECONDS


class ReplayCancelled(Exception):
    """The job was cancelled between two checkpoints: the replay stops there."""


def replay_start(*, plan: TerritoryPlan, since: datetime, until: datetime, actor_label: str):
    """A queued replay job of [since, until) through `plan` (any status)."""
    if since >= until:
        raise ApplicationError("must be after since", field="until")
    return job_services.job_create(
        workspace=plan.workspace,
        kind=JobKind.REPLAY,
        handler=REPLAY,
        actor_label=actor_label,
        params={"plan": plan.pk, "since": since.isoformat(), "until": until.isoformat()},
    )


def _window(job) -> tuple[TerritoryPlan, datetime, datetime]:
    params = job.params
    plan = TerritoryPlan.objects.filter(workspace_id=job.workspace_id, pk=params["plan"]).first()
    if plan is None:
        raise ApplicationError("the plan of this replay no longer exists")
    return plan, datetime.fromisoformat(params["since"]), datetime.fromisoformat(params["until"])


HISTORY_TABLE = Allocation._meta.db_table
# First decisions only: a reassignment is a person's choice, not the engine's.
HISTORY_WHERE = (
    "workspace_id = %s AND reassigned_from_id IS NULL AND created_at >= %s AND created_at < %s"
)


def replay_plan(job) -> list[dict]:
    """One chunk. Its checkpoints report the progress (rows replayed of `total`), so it
    counts for nothing itself when it completes."""
    _, since, until = _window(job)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*) FROM {HISTORY_TABLE} WHERE {HISTORY_WHERE}",
            [job.workspace_id, since, until],
        )
        total = cursor.fetchone()[0]
    return [{"size": 0, "total": total, "state": None}]


def _history_page(*, workspace_id, since, until, after, limit) -> list[HistoryRow]:
    """The next rows of the window in time order after `after` ((created_at, id) or None)."""
    sql = (
        "SELECT id, created_at, record_type, record_id, record_fields, owner_id "
        f"FROM {HISTORY_TABLE} WHERE {HISTORY_WHERE}"
    )
    params = [workspace_id, since, until]
    if after is not None:
        sql += " AND (created_at, id) > (%s, %s)"
        params += [after[0], after[1]]
    sql += " ORDER BY created_at, id LIMIT %s"
    params.append(limit)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    loads = json.loads
    return [
        HistoryRow(
            id=row[0],
            created_at=row[1],
            record_type=row[2],
            record_id=row[3],
            fields=loads(row[4]) if isinstance(row[4], str | bytes) else (row[4] or {}),
            owner_id=row[5],
        )
        for row in rows
    ]


def _members(workspace_id) -> dict[int, ReplayMember]:
    return {
        m["id"]: ReplayMember(
            id=m["id"],
            name=m["name"],
            is_active=m["is_active"],
            timezone=m["timezone"],
            attributes={**(m["metadata"] or {}), "role": m["role"], "timezone": m["timezone"]},
        )
        for m in Member.objects.filter(workspace_id=workspace_id).values(
            "id", "name", "is_active", "timezone", "metadata", "role"
        )
    }


def _capacities(workspace_id) -> list[ReplayCapacity]:
    """Capacities over allocations. Open-deal capacities read a CRM snapshot of the present
    and book capacities cap accounts, not allocations: neither can be reproduced as it was."""
    return [
        ReplayCapacity(
            id=c.pk,
            member_id=c.member_id,
            limit=c.limit,
            period=c.period,
            window_hours=c.window_hours,
            record_types=tuple(c.record_types or ()),
        )
        for c in Capacity.objects.filter(workspace_id=workspace_id, source=Source.ALLOCATIONS)
    ]


def _absences(workspace_id, since, until) -> dict[int, list[tuple[datetime, datetime]]]:
    absences: dict[int, list] = {}
    for member_id, starts_at, ends_at in Absence.objects.filter(
        workspace_id=workspace_id, starts_at__lt=until, ends_at__gt=since
    ).values_list("member_id", "starts_at", "ends_at"):
        absences.setdefault(member_id, []).append((starts_at, ends_at))
    return absences


def _initial_pointers(*, plan: TerritoryPlan, since: datetime) -> dict[int, RotationSnapshot]:
    """Each rotating territory's pointer as it was at `since`: the owner of the last
    allocation the engine assigned before then in a territory of the same name (the draft's
    own territory, or the one of the plan it was cloned from), if that member is in the
    draft territory's rotation; otherwise no pointer (the rotation starts at its first
    member). Weighted rotations start with zero weights: their past state is not kept."""
    territories = list(
        Territory.objects.filter(plan=plan)
        .exclude(distribution="least_loaded")
        .values_list("id", "name")
    )
    if not territories:
        return {}
    names = {name for _, name in territories}
    sources = dict(
        Territory.objects.filter(workspace_id=plan.workspace_id, name__in=names).values_list(
            "id", "name"
        )
    )
    last_rows = _last_assigned(
        workspace_id=plan.workspace_id, territory_ids=list(sources), since=since
    )
    # Several territories may share a name (plans cloned in turn): the latest one wins.
    last_by_name: dict[str, tuple[datetime, int]] = {}
    for territory_id, owner_id, moment in last_rows:
        name = sources[territory_id]
        if name not in last_by_name or moment > last_by_name[name][0]:
            last_by_name[name] = (moment, owner_id)
    rotation_members: dict[int, set[int]] = {}
    for territory_id, member_id in TerritorySlot.objects.filter(
        territory__plan=plan, role__in=[SlotRole.PRIMARY, SlotRole.BACKUP]
    ).values_list("territory_id", "member_id"):
        rotation_members.setdefault(territory_id, set()).add(member_id)
    pointers = {}
    for territory_id, name in territories:
        last = last_by_name.get(name)
        if last and last[1] in rotation_members.get(territory_id, ()):
            pointers[territory_id] = RotationSnapshot(last[1], {})
    return pointers


def _last_assigned(*, workspace_id, territory_ids, since) -> list[tuple[int, int, datetime]]:
    """(territory, owner, at) of each territory's last assigned allocation before `since`
    (within the lookback). Postgres: DISTINCT ON; SQLite (make run): a bare column of a MAX
    aggregate comes from the row holding the maximum."""
    if not territory_ids:
        return []
    condition = (
        f"workspace_id = %s AND territory_id IN ({placeholders(territory_ids)}) AND status = %s "
        "AND created_at < %s AND created_at >= %s"
    )
    params = [workspace_id, *territory_ids, AllocationStatus.ASSIGNED, since]
    params.append(since - POINTER_LOOKBACK)
    if connection.vendor == "postgresql":
        sql = (
            "SELECT DISTINCT ON (territory_id) territory_id, owner_id, created_at "
            f"FROM {HISTORY_TABLE} WHERE {condition} "
            "ORDER BY territory_id, created_at DESC, id DESC"
        )
    else:
        sql = (
            "SELECT territory_id, owner_id, MAX(created_at) "
            f"FROM {HISTORY_TABLE} WHERE {condition} GROUP BY territory_id"
        )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    field = Allocation._meta.get_field("created_at")
    return [
        (tid, owner, at if isinstance(at, datetime) else field.to_python(at))
        for tid, owner, at in rows
    ]


MOVE_COLUMNS = (
    "workspace_id",
    "job_id",
    "sequence",
    "allocation_id",
    "allocated_at",
    "record_type",
    "record_id",
    "actual_owner_id",
    "replayed_owner_id",
    "replayed_territory_id",
    "replayed_status",
)


def _moves_write(moves: list[tuple]) -> None:
    """Rows of MOVE_COLUMNS: COPY on Postgres (a replay may find 100,000 of them; building
    model instances cost more than the replay itself), bulk_create elsewhere."""
    if not moves:
        return
    if connection.vendor != "postgresql":
        ReplayMove.objects.bulk_create(
            ReplayMove(**dict(zip(MOVE_COLUMNS, move, strict=True))) for move in moves
        )
        return
    columns = ", ".join(ReplayMove._meta.get_field(c).column for c in MOVE_COLUMNS)
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {ReplayMove._meta.db_table} ({columns}) FROM STDIN") as copy,
    ):
        for move in moves:
            copy.write_row(move)


def _chunk_payload(job) -> dict:
    """The chunk's latest checkpoint, read afresh: the payload the runner hands over was read
    when the chunk was claimed and is stale after a checkpoint of this very attempt."""
    return JobChunk.objects.filter(job=job, index=0).values_list("payload", flat=True).first()


def replay_run(job, payload=None) -> ReplayState:
    """The replay of the job's window from its last checkpoint to the end (the chunk's
    `prepare`: it commits its own checkpoints, outside the chunk's final transaction)."""
    plan, since, until = _window(job)
    payload = _chunk_payload(job) or payload or {}
    capacities = _capacities(job.workspace_id)
    by_id = {c.id: c for c in capacities}
    if payload.get("state"):
        state = ReplayState.load(payload["state"], capacities=by_id)
    else:
        state = ReplayState(pointers=_initial_pointers(plan=plan, since=since))
    # Moves past the checkpoint cannot exist (they commit with it); deleting them keeps a
    # resumed replay idempotent even so.
    ReplayMove.objects.filter(job=job, sequence__gt=state.rows).delete()
    replayer = Replayer(
        matcher=matcher_for_plan(plan=plan),
        members=_members(job.workspace_id),
        capacities=capacities,
        absences=_absences(job.workspace_id, since, until),
        default_member_id=job.workspace.default_member_id,
        evaluate=rules.evaluate,
        state=state,
    )
    size = _checkpoint_rows()
    started = time.monotonic()
    job_services.chunk_checkpoint(
        job_id=job.pk, index=0, payload=payload, done=state.rows, total=payload.get("total")
    )
    while True:
        rows = _history_page(
            workspace_id=job.workspace_id,
            since=since,
            until=until,
            after=state.position,
            limit=size,
        )
        if not rows:
            return state
        moves = []
        for row in rows:
            outcome = replayer.replay(row)
            if outcome.moved:
                moves.append(
                    (
                        job.workspace_id,
                        job.pk,
                        state.rows,
                        row.id,
                        row.created_at,
                        row.record_type,
                        row.record_id,
                        row.owner_id,
                        outcome.owner_id,
                        outcome.territory_id,
                        outcome.status,
                    )
                )
        with transaction.atomic():
            if connection.vendor == "postgresql":
                # A checkpoint lost in a crash costs only its rows again (the moves and the
                # state commit together): no need to wait for the WAL flush.
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL synchronous_commit TO OFF")
            _moves_write(moves)
            running = job_services.chunk_checkpoint(
                job_id=job.pk,
                index=0,
                payload={**payload, "state": state.dump()},
                done=state.rows,
            )
        if not running:
            raise ReplayCancelled(f"replay job {job.pk} stopped at row {state.rows}")
        if len(rows) < size:
            return state
        if time.monotonic() - started > _task_seconds():
            # Well before the task's time limit: a new task resumes from this checkpoint.
            raise job_services.ChunkContinues(f"replay job {job.pk} continues at {state.rows}")


def replay_summary(*, job, plan: TerritoryPlan, state: ReplayState) -> dict:
    """Per rep: what really happened next to the replay; fairness of both; counts. The reps
    are everyone who owned a row either way and every primary member of the plan."""
    primaries = set(
        TerritorySlot.objects.filter(territory__plan=plan, role=SlotRole.PRIMARY).values_list(
            "member_id", flat=True
        )
    )
    member_ids = set(state.actual) | set(state.replayed) | primaries
    names = dict(
        Member.objects.filter(workspace_id=job.workspace_id, pk__in=member_ids).values_list(
            "id", "name"
        )
    )
    members = sorted(
        (
            {
                "id": m,
                "name": names.get(m, f"member {m}"),
                "actual": state.actual.get(m, 0),
                "replayed": state.replayed.get(m, 0),
                "delta": state.replayed.get(m, 0) - state.actual.get(m, 0),
            }
            for m in member_ids
        ),
        key=lambda row: (row["name"].lower(), row["id"]),
    )
    return {
        "plan": plan.pk,
        "plan_name": plan.name,
        "since": job.params["since"],
        "until": job.params["until"],
        "rows": state.rows,
        "moved": state.moved,
        "unassigned": state.replayed_unassigned,
        "actual_unassigned": state.actual_unassigned,
        "members": members,
        "fairness": {
            "actual": fairness(state.actual, member_ids),
            "replayed": fairness(state.replayed, member_ids),
        },
    }


def replay_apply(job, payload, state: ReplayState) -> tuple[dict, list]:
    """In the chunk's final transaction: the summary becomes the job's result."""
    plan, _, _ = _window(job)
    Job.objects.filter(pk=job.pk).update(result=replay_summary(job=job, plan=plan, state=state))
    return {}, []


HANDLER = JobHandler(name=REPLAY, plan=replay_plan, prepare=replay_run, apply=replay_apply)
