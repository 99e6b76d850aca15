"""The SLA sweep at scale: 100,000 open allocations under an SLA policy.

Builds a workspace with one territory (50 reps, round robin) and a 60-minute policy
(reminder at 50 %, reassign on breach), then 100,000 current allocations whose ages put
1 % past the reminder point and 0.2 % past due. Prints:

- the time to start 100,000 clocks (one discovery pass: due times in each owner's working
  hours, bulk-inserted),
- one sweep tick with those reminders and breaches to act on — the target is ≤ 10 s. The
  tick starts new clocks, sends the reminders and hands the breaches, in chunks, to the
  Celery workers (real `celery worker` processes on a redis-server of our own, as in
  production); then the time until the workers have acted on every breach (each reassigned
  through the allocation engine, never to a previous owner),
- a second tick with nothing left to do (the steady state).

Run: make bench-sla  (a fresh database revorg_sla_bench; flags: --allocations, --reps,
--remind-fraction, --due-fraction, --workers, --seed)."""

import argparse
import os
import random
import shutil
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "revorg.settings")

import django  # noqa: E402

django.setup()

from benchlib import Workers  # noqa: E402
from django.utils import timezone  # noqa: E402

from allocation.models import Allocation  # noqa: E402
from members.models import Member  # noqa: E402
from revorg.models import Workspace  # noqa: E402
from sla.models import SlaClock, SlaPolicy  # noqa: E402
from sla.services import clocks_start, sla_sweep  # noqa: E402
from territories.models import Territory, TerritorySlot  # noqa: E402
from territories.services import plan_ensure_active  # noqa: E402

WEEKDAYS_8_TO_20 = {d: [["08:00", "20:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}


def build(args, rng):
    now = timezone.now()
    workspace = Workspace.objects.create(slug=f"bench-sla-{os.getpid()}", name="bench sla")
    plan = plan_ensure_active(workspace=workspace)
    territory = Territory.objects.create(
        workspace=workspace,
        plan=plan,
        name="US",
        rule={"field": "country", "op": "eq", "value": "US"},
    )
    # Round the clock for most reps; a fifth work weekdays 08–20 in New York.
    reps = Member.objects.bulk_create(
        Member(
            workspace=workspace,
            name=f"Rep {i}",
            timezone="America/New_York" if i % 5 == 0 else "UTC",
            working_hours=WEEKDAYS_8_TO_20 if i % 5 == 0 else {},
        )
        for i in range(args.reps)
    )
    TerritorySlot.objects.bulk_create(
        TerritorySlot(workspace=workspace, territory=territory, member=rep, position=i)
        for i, rep in enumerate(reps)
    )
    policy = SlaPolicy.objects.create(
        workspace=workspace,
        name="Leads in an hour",
        territory=territory,
        respond_within_minutes=60,
        remind_at_percent=50,
        on_breach="reassign",
        max_breaches=2,
    )
    SlaPolicy.objects.filter(pk=policy.pk).update(created_at=now - timedelta(days=1))
    n = args.allocations
    due, remind = int(n * args.due_fraction), int(n * args.remind_fraction)
    # Only the round-the-clock reps own the overdue ones: their due times are exact.
    always = [r for i, r in enumerate(reps) if i % 5]
    rows = []
    for i in range(n):
        if i < due:
            age, owner = rng.uniform(61, 90), always[i % len(always)]
        elif i < due + remind:
            age, owner = rng.uniform(31, 59), always[i % len(always)]
        else:
            age, owner = rng.uniform(0, 29), reps[i % len(reps)]
        rows.append(
            Allocation(
                workspace=workspace,
                status="assigned",
                owner=owner,
                territory=territory,
                record_type="lead",
                record_id=f"00QB{i:011d}",
                record_fields={"country": "US"},
                decision=[],
                actor_label="bench",
                created_at=now - timedelta(minutes=age),
            )
        )
    ages = {row.record_id: row.created_at for row in rows}  # bulk_create stamps them now
    started = time.perf_counter()
    Allocation.objects.bulk_create(rows, batch_size=5000)
    print(f"built {n:,} allocations in {time.perf_counter() - started:.1f} s")
    return workspace, ages, due, remind, now


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--allocations", type=int, default=100_000)
    parser.add_argument("--reps", type=int, default=50)
    parser.add_argument("--remind-fraction", type=float, default=0.01)
    parser.add_argument("--due-fraction", type=float, default=0.002)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if not shutil.which("redis-server"):
        sys.exit("needs redis-server")
    rng = random.Random(args.seed)
    # Ages are relative to `at`, the moment the sweep is told it is (building 100,000 rows
    # takes minutes, which would otherwise age the "fresh" ones past their deadlines).
    workspace, ages, due, remind, at = build(args, rng)
    # bulk_create's auto_now_add stamped every row now: put the intended ages back.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE bench_ages (record_id text, created_at timestamptz)")
        with cursor.cursor.copy("COPY bench_ages (record_id, created_at) FROM STDIN") as copy:
            for record_id, created in ages.items():
                copy.write_row((record_id, created))
        cursor.execute(
            "UPDATE allocation_allocation a SET created_at = b.created_at FROM bench_ages b "
            "WHERE a.workspace_id = %s AND a.record_id = b.record_id",
            [workspace.pk],
        )
        cursor.execute("ANALYZE allocation_allocation")

    started = time.perf_counter()
    clocks_start(workspace_id=workspace.pk, now=at)
    start_seconds = time.perf_counter() - started
    clocks = SlaClock.objects.filter(workspace=workspace).count()
    print(f"clocks started: {clocks:,} in {start_seconds:.2f} s")

    workers = Workers(args.workers, name="sla")
    try:
        started = time.perf_counter()
        result = sla_sweep(now=at)
        tick = time.perf_counter() - started
        print(
            f"sweep tick over {args.allocations:,} open allocations: {tick:.2f} s "
            f"(reminded {result['reminded']:,}, breaches dispatched "
            f"{result.get('dispatched', 0):,}; expected ~{remind + due:,} reminders and "
            f"{due:,} breaches) — target ≤ 10 s"
        )
        breached = SlaClock.objects.filter(workspace=workspace, breached_at__isnull=False)
        while breached.count() < result.get("dispatched", 0):
            time.sleep(0.2)
        acted = time.perf_counter() - started
        print(
            f"breaches acted on by {args.workers} workers: {breached.count():,} "
            f"{acted:.2f} s after the tick started"
        )
        started = time.perf_counter()
        quiet = sla_sweep(now=at)
        print(
            f"next tick, nothing due: {time.perf_counter() - started:.2f} s "
            f"(reminded {quiet['reminded']}, dispatched {quiet.get('dispatched', 0)})"
        )
    finally:
        workers.stop()
    moved = Allocation.objects.filter(
        workspace=workspace, is_current=True, reassigned_from__isnull=False
    )
    again = sum(
        1
        for entry in moved.select_related("reassigned_from")
        if entry.owner_id == entry.reassigned_from.owner_id
    )
    print(f"breached records reassigned: {moved.count():,}; to their previous owner: {again}")


if __name__ == "__main__":
    main()
