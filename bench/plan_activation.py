"""Plan activation with a transition at scale (target: ≤ 90 s for 1,000,000 accounts and
200,000 open deals on 2 Celery workers).

`activation_stage(data)` is one stage of bench/plan.py: from the book it is given (the
bench-book data, already assigned under the active plan), it clones the active plan, gives
every other territory of the clone other reps (about half of the assigned accounts change
owner),
then activates the clone with a `stage_based` transition (probability 60) and a 30-day
overlap, and times the activation from the request to the end of its job (re-evaluation of
every account, open deals kept or moved, overlays, per-rep counts; digests off: mail is not
what is measured). It prints the time and the throughput and returns the figures.

`data` is a dict: `workspace` (revorg.models.Workspace, its book assigned under its active
plan) and optionally `workers` (Celery workers already running on the broker the process
publishes to; without them the stage starts its own `--workers` and a redis-server).

Run alone: `make bench-plan-activation` (fresh database revorg_activation_bench; flags
--accounts, --territories, --members, --workers, --chunk, --deal-ratio, --seed), or
`python bench/plan_activation.py --accounts 100000` against DATABASE_URL.
"""

import argparse
import importlib.util
import os
import random
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The `book` app, not bench/book.py (run as a script, this file's folder comes first).
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench")]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "revorg.settings")

import django  # noqa: E402

django.setup()

_spec = importlib.util.spec_from_file_location("bench_book", ROOT / "bench" / "book.py")
bench_book = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_book)
Workers, build_book, run_job = bench_book.Workers, bench_book.build_book, bench_book.run_job

from django.db import connection, transaction  # noqa: E402

from book.models import Account, Opportunity  # noqa: E402
from jobs.models import Job  # noqa: E402
from members.models import Member  # noqa: E402
from revorg.services import SYSTEM  # noqa: E402
from territories.models import PlanStatus, Territory, TerritoryPlan, TerritorySlot  # noqa: E402
from territories.services import plan_clone  # noqa: E402
from transitions import services as transition_services  # noqa: E402

STAGES = (("Prospecting", 10), ("Discovery", 20), ("Proposal", 40), ("Negotiation", 70),
          ("Commit", 90))  # fmt: skip


def add_open_deals(workspace, ratio: float) -> int:
    """One open deal on `ratio` of the accounts (every n-th by id), owned by the account's
    owner, its stage and probability spread over STAGES: one INSERT … SELECT."""
    every = max(1, round(1 / ratio))
    cases = " ".join(f"WHEN {i} THEN %s" for i in range(len(STAGES)))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Opportunity._meta.db_table} (workspace_id, crm_provider, crm_id, "
            "account_id, name, owner_id, stage, probability, amount, is_closed, is_won, "
            "updated_at) SELECT workspace_id, '', 'O' || id, id, 'Deal ' || id, owner_id, "
            f"CASE (id / {every}) %% {len(STAGES)} {cases} END, "
            f"CASE (id / {every}) %% {len(STAGES)} {cases} END, "
            f"1000 + id %% 50000, false, false, now() FROM {Account._meta.db_table} "
            f"WHERE workspace_id = %s AND id %% {every} = 0",
            [*(s for s, _ in STAGES), *(p for _, p in STAGES), workspace.pk],
        )
        count = cursor.rowcount
        cursor.execute(f"ANALYZE {Opportunity._meta.db_table}")
    return count


def draft_with_new_owners(workspace, rng) -> TerritoryPlan:
    """The active plan cloned, every other territory of the clone given two other reps (a
    large reorganisation: about half of the assigned accounts change owner)."""
    active = TerritoryPlan.objects.get(workspace=workspace, status=PlanStatus.ACTIVE)
    with transaction.atomic():
        draft = plan_clone(plan=active, name=f"{active.name} (rebalanced)", actor=SYSTEM)
    members = list(Member.objects.filter(workspace=workspace).values_list("id", flat=True))
    changed = list(
        Territory.objects.filter(plan=draft).order_by("id").values_list("id", flat=True)
    )[::2]
    TerritorySlot.objects.filter(territory_id__in=changed).delete()
    TerritorySlot.objects.bulk_create(
        TerritorySlot(workspace=workspace, territory_id=t, member_id=m, role="primary",
                      position=p)
        for t in changed
        for p, m in enumerate(rng.sample(members, 2))
    )  # fmt: skip
    return draft


def activation_stage(data: dict, *, workers: int = 2, chunk: int = 5000, seed: int = 7) -> dict:
    workspace = data["workspace"]
    rng = random.Random(seed)
    draft = draft_with_new_owners(workspace, rng)
    own = None if data.get("workers") else Workers(workers, chunk).wait_ready()
    try:
        started = time.perf_counter()
        with transaction.atomic():
            activation = transition_services.activation_request(
                plan=draft,
                transition={
                    "open_deals": "stage_based",
                    "stage_threshold": {"probability": 60},
                    "overlap_days": 30,
                    "notify": False,
                },
                actor=SYSTEM,
            )
        switched = time.perf_counter() - started
        job = Job.objects.get(pk=activation.job_id)
        while job.status in ("queued", "running"):
            time.sleep(0.2)
            job.refresh_from_db()
        elapsed = time.perf_counter() - started
    finally:
        if own is not None:
            own.stop()
    result = job.result
    evaluated = result.get("evaluated", 0)
    deals = result.get("deals_moved", 0) + result.get("deals_kept", 0)
    print(
        f"activation with transition      {elapsed:8.1f} s  {job.status} "
        f"(plan switch {switched:.2f} s): {evaluated:,} accounts evaluated "
        f"({evaluated / elapsed:,.0f}/s), {result.get('accounts_moved', 0):,} moved, "
        f"{result.get('deals_moved', 0):,} deals moved / {result.get('deals_kept', 0):,} kept "
        f"({deals / elapsed:,.0f} deals/s), {result.get('overlays_added', 0):,} overlays"
    )
    return {"activation_seconds": elapsed, "job": job.pk, "status": job.status, **result}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--territories", type=int, default=5000)
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--chunk", type=int, default=5000)
    parser.add_argument("--deal-ratio", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if not shutil.which("redis-server"):
        sys.exit("needs redis-server")
    rng = random.Random(args.seed)
    workspace, _ = build_book(args, rng)
    workers = Workers(args.workers, args.chunk)
    try:
        run_job(workspace, "first full assignment")
    finally:
        workers.stop()
    deals = add_open_deals(workspace, args.deal_ratio)
    print(f"generated {deals:,} open deals")
    activation_stage({"workspace": workspace}, workers=args.workers, chunk=args.chunk,
                     seed=args.seed)  # fmt: skip


if __name__ == "__main__":
    main()
