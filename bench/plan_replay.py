"""Replay of allocation history through a draft plan: 100,000 history rows (target ≤ 60 s).

`replay_stage(data)` is the stage bench/plan.py calls: `data` holds `workspace` and `plan`
(the draft to replay through) and optionally `history_rows` (default 100,000). It writes that
many first allocations into the workspace's history with one INSERT … SELECT (fields drawn
in SQL from bench/match.py's vocabulary: countries, states, postal codes, industries, sizes),
one a minute from a fixed start, owners among the workspace's members, then runs one replay
job of exactly that window and returns its figures (rows, seconds, rows per second, moved,
unassigned).

Alone (make bench-plan-replay; flags --rows, --territories, --members, --seed): a fresh
workspace with bench/match.py's plan as the active plan (two primaries per territory, round
robin), a third of the reps with a daily capacity of 40, a tenth absent for a week of the
window, a draft clone in which every territory gets a third rep, then the stage."""

import argparse
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "revorg.settings")

import django  # noqa: E402

django.setup()

from benchlib import bench_module  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from match import COUNTRIES, INDUSTRIES, STATES  # noqa: E402

from allocation.models import Allocation  # noqa: E402
from capacities.models import Capacity  # noqa: E402
from jobs.models import Job  # noqa: E402
from members.models import Absence, Member  # noqa: E402
from replay.services import replay_start  # noqa: E402
from revorg.models import Workspace  # noqa: E402
from territories.models import Territory, TerritorySlot  # noqa: E402
from territories.services import plan_clone, plan_touch  # noqa: E402

HISTORY_START = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday
bench_book = bench_module("book")  # its plan and reps generator


def history_generate(*, workspace, rows: int, start: datetime = HISTORY_START) -> tuple:
    """`rows` first allocations, one a minute from `start`, in one INSERT … SELECT; returns
    the window (since, until) that holds exactly them."""
    member_ids = list(Member.objects.filter(workspace=workspace).values_list("id", flat=True))
    table = Allocation._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.42)")
        cursor.execute(
            f"INSERT INTO {table} (workspace_id, status, owner_id, territory_id, record_type, "
            "record_id, record_crm, record_fields, decision, overlays, play_run_id, "
            "play_run_url, reason, actor_label, created_at, is_current) "
            "SELECT %s, 'assigned', (%s::bigint[])[1 + floor(random() * %s)::int], NULL, "
            "'lead', 'R' || i, '', jsonb_build_object("
            "'country', (%s::text[])[1 + floor(random() * %s)::int], "
            "'state', (%s::text[])[1 + floor(random() * %s)::int], "
            "'postal_code', (10000 + floor(random() * 90000)::int)::text, "
            "'industry', (%s::text[])[1 + floor(random() * %s)::int], "
            "'employees', 1 + floor(random() * 20000)::int, "
            "'annual_revenue', floor(random() * 80)::int * 1000000, "
            "'domain', 'acct' || i || '.example'), "
            "'[]'::jsonb, '[]'::jsonb, '', '', '', 'bench', "
            "%s + make_interval(mins => i), true FROM generate_series(0, %s - 1) AS i",
            [
                workspace.pk,
                member_ids,
                len(member_ids),
                COUNTRIES,
                len(COUNTRIES),
                STATES,
                len(STATES),
                INDUSTRIES,
                len(INDUSTRIES),
                start,
                rows,
            ],
        )
        cursor.execute(f"ANALYZE {table}")
    return start, start + timedelta(minutes=rows)


def replay_stage(data) -> dict:
    """Generates the history (set-based) and replays it through `data["plan"]`; prints and
    returns the figures."""
    workspace, plan = data["workspace"], data["plan"]
    rows = int(data.get("history_rows", 100_000))
    started = time.perf_counter()
    since, until = history_generate(workspace=workspace, rows=rows)
    print(f"replay: generated {rows:,} history rows in {time.perf_counter() - started:.1f} s")
    # Alone, the job runs here, in this process, to completion; in bench/plan.py the Celery
    # workers it started run it and this waits.
    settings.JOBS_EAGER_MODE = "inline"
    started, cpu = time.perf_counter(), time.process_time()
    job = replay_start(plan=plan, since=since, until=until, actor_label="bench")
    while (job := Job.objects.get(pk=job.pk)).status in ("queued", "running"):
        time.sleep(0.2)
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu
    if job.status != "succeeded":
        raise SystemExit(f"replay job {job.pk} {job.status}: {job.errors}")
    figures = {
        "rows": job.result["rows"],
        "seconds": round(seconds, 1),
        "cpu_seconds": round(cpu, 1),
        "rows_per_second": round(job.result["rows"] / seconds),
        "moved": job.result["moved"],
        "unassigned": job.result["unassigned"],
        "checkpoints": -(-job.result["rows"] // settings.REPLAY_CHECKPOINT_ROWS),
    }
    print(
        f"replay: {figures['rows']:,} rows in {seconds:.1f} s "
        f"({figures['rows_per_second']:,} rows/s; target 100,000 in ≤ 60 s; "
        f"this process's CPU {cpu:.1f} s, the rest is waiting for the database or a core), "
        f"{figures['moved']:,} would have gone elsewhere, {figures['unassigned']:,} unassigned, "
        f"{figures['checkpoints']} checkpoints"
    )
    return figures


def build_world(args, rng) -> dict:
    workspace = Workspace.objects.create(slug=f"bench-replay-{os.getpid()}", name="bench replay")
    plan, members, created = bench_book.plan_with_reps(
        workspace, territories=args.territories, members=args.members, rng=rng
    )
    Capacity.objects.bulk_create(
        Capacity(workspace=workspace, member=m, limit=40, period="day") for m in members[::3]
    )
    Absence.objects.bulk_create(
        Absence(
            workspace=workspace,
            member=m,
            starts_at=HISTORY_START + timedelta(days=7),
            ends_at=HISTORY_START + timedelta(days=14),
        )
        for m in members[::10]
    )
    draft = plan_clone(plan=plan, name="Three reps per territory")
    slots = []
    for territory in Territory.objects.filter(plan=draft).prefetch_related("slots"):
        taken = {s.member_id for s in territory.slots.all()}
        extra = rng.choice([m for m in members if m.pk not in taken])
        slots.append(
            TerritorySlot(
                workspace=workspace, territory=territory, member=extra, role="primary", position=9
            )
        )
    TerritorySlot.objects.bulk_create(slots)
    plan_touch(plan_id=draft.pk)
    print(
        f"replay: {len(created):,} territories, {len(members):,} reps, draft plan {draft.pk} "
        "with a third rep per territory"
    )
    return {"workspace": workspace, "plan": draft, "history_rows": args.rows}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--territories", type=int, default=2_000)
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    replay_stage(build_world(args, random.Random(args.seed)))


if __name__ == "__main__":
    main()
