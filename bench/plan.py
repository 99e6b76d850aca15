"""Territory planning at scale: bench-book's book (1,000,000 accounts, a 5,000-territory plan,
2,000 reps; bench/book.py's generator), assigned, and a draft that moves ~10 % of it.

Prepares (untimed): the accounts generated with COPY, their territory and owner under the
active plan written set-based (resolved by the compiled matcher, owner = one of the
territory's two primaries), and a draft cloned from the active plan in which the primaries
of randomly chosen territories are replaced until ~10 % of the accounts must change owner.

Then runs `STAGES` in order, each a function taking the prepared data: this file's stage is
the whole-book simulation of the draft on real Celery workers (printed with its throughput;
the book is checksummed before and after: nothing may be written). The replay and activation
benches (bench/plan_replay.py, bench/plan_activation.py) are the next stages, so
`make bench-plan` runs all three on the same data (each also runs alone).

Run: make bench-plan  (a fresh database revorg_plan_bench; flags: --accounts, --territories,
--members, --workers, --move-share, --deal-ratio, --chunk, --seed, --stages)."""

import argparse
import json
import os
import random
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "revorg.settings")

import django  # noqa: E402

django.setup()

from benchlib import bench_module, postgres_settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402

import book.services  # noqa: E402, F401  (the app, before bench/book.py is loaded by path)
from allocation.models import Allocation  # noqa: E402
from jobs.models import Job  # noqa: E402
from planning import services as planning_services  # noqa: E402
from territories.models import Territory, TerritoryPlan, TerritorySlot  # noqa: E402
from territories.selectors import matcher_for_plan  # noqa: E402
from territories.services import plan_clone, plan_touch  # noqa: E402

bench_book = bench_module("book")


@dataclass
class Prepared:
    args: argparse.Namespace
    workspace: object
    plan: TerritoryPlan  # the active plan
    draft: TerritoryPlan
    moved_accounts: int  # accounts whose territory's primaries the draft replaced
    workers: object  # bench_book.Workers: real celery workers on a redis-server of our own


def assign_book(workspace, plan) -> None:
    """Every account's territory and owner as re-evaluation would leave them, written
    set-based (the bench's set-up, not what it measures)."""
    matcher = matcher_for_plan(plan=plan)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, crm_id, domain, fields FROM book_account WHERE workspace_id = %s",
            [workspace.pk],
        )
        rows = cursor.fetchall()
    records = [
        {**json.loads(fields), "account_id": crm_id, "domain": domain}
        for _, crm_id, domain, fields in rows
    ]
    winners = matcher.winners(records)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE bench_assign (id bigint, territory_id bigint, owner_id bigint) "
            "ON COMMIT DROP"
        )
        with cursor.cursor.copy("COPY bench_assign FROM STDIN") as copy:
            for (account_id, *_), winner_id in zip(rows, winners, strict=True):
                owner = None
                if winner_id is not None:
                    primaries = [s.member_id for s in matcher.by_id[winner_id].slots]
                    owner = primaries[account_id % len(primaries)] if primaries else None
                copy.write_row((account_id, winner_id, owner))
        cursor.execute(
            "UPDATE book_account a SET territory_id = b.territory_id, owner_id = b.owner_id, "
            "status = CASE WHEN b.territory_id IS NULL THEN 'orphaned' ELSE 'assigned' END, "
            "assigned_at = now() FROM bench_assign b WHERE a.id = b.id"
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE book_account")
    print(f"assigned the book set-based in {time.perf_counter() - started:.1f} s")


def draft_moving(plan, share: float, rng, members) -> tuple[TerritoryPlan, int]:
    """A clone whose randomly chosen territories get two other primaries, until `share` of
    the assigned accounts sit in them (each must change owner: its owner is no longer a
    primary there)."""
    started = time.perf_counter()
    with transaction.atomic():
        draft = plan_clone(plan=plan, name=f"{plan.name} next year")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t.name, count(*) FROM book_account a JOIN territories_territory t "
            "ON t.id = a.territory_id WHERE t.plan_id = %s GROUP BY t.name",
            [plan.pk],
        )
        per_name = cursor.fetchall()
    total = sum(n for _, n in per_name)
    rng.shuffle(per_name)
    chosen, moved = [], 0
    for name, count in per_name:
        if moved >= share * total:
            break
        chosen.append(name)
        moved += count
    targets = list(
        Territory.objects.filter(plan=draft, name__in=chosen).values_list("id", flat=True)
    )
    with transaction.atomic():
        TerritorySlot.objects.filter(territory_id__in=targets).delete()
        TerritorySlot.objects.bulk_create(
            TerritorySlot(workspace_id=plan.workspace_id, territory_id=t, member=m, role="primary",
                          position=p)
            for t in targets
            for p, m in enumerate(rng.sample(members, 2))
        )  # fmt: skip
        plan_touch(plan_id=draft.pk)
    draft.refresh_from_db()
    print(
        f"draft cloned, {len(targets):,} territories re-staffed ({moved:,} accounts, "
        f"{moved / max(1, total):.1%} of the assigned book) "
        f"in {time.perf_counter() - started:.1f} s"
    )
    return draft, moved


def book_checksum(workspace) -> tuple:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), sum(hashtext(concat_ws(',', id, territory_id, owner_id, status, "
            "assigned_at, updated_at))::bigint) FROM book_account WHERE workspace_id = %s",
            [workspace.pk],
        )
        book = cursor.fetchone()
        cursor.execute(
            f"SELECT count(*) FROM {Allocation._meta.db_table} WHERE workspace_id = %s",
            [workspace.pk],
        )
        return (*book, cursor.fetchone()[0])


def stage_simulation(prepared: Prepared) -> dict:
    """The draft simulated against the whole book on the workers; nothing written."""
    before = book_checksum(prepared.workspace)
    started = time.perf_counter()
    with transaction.atomic():
        job = planning_services.simulation_start(plan=prepared.draft, actor_label="bench-plan")
    while True:
        job = Job.objects.get(pk=job.pk)
        if job.status not in ("queued", "running"):
            break
        time.sleep(0.2)
    elapsed = time.perf_counter() - started
    after = book_checksum(prepared.workspace)
    result = job.result or {}
    accounts = result.get("accounts", 0)
    print(
        f"{'simulation of the draft':<32} {elapsed:8.1f} s  {job.status}: {accounts:,} accounts "
        f"({accounts / elapsed:,.0f} accounts/s), {result.get('moves', 0):,} moves "
        f"({result.get('owner_moves', 0):,} owner, {result.get('territory_moves', 0):,} territory)"
    )
    balance = result.get("balance", {})
    print(
        f"{'':<32} balance accounts {balance.get('accounts')}, pipeline {balance.get('pipeline')}; "
        f"book unchanged: {before == after}; target ≤ 30 s at 1,000,000 accounts"
    )
    if job.status != "succeeded" or before != after:
        raise SystemExit(f"simulation failed or wrote to the book: {job.errors}")
    return {"seconds": elapsed, "accounts": accounts, "moves": result.get("moves", 0)}


def stage_replay(prepared: Prepared) -> dict:
    """bench/plan_replay.py: 100,000 history rows generated, then replayed through the draft."""
    module = bench_module("plan_replay")
    return module.replay_stage({"workspace": prepared.workspace, "plan": prepared.draft})


def stage_activation(prepared: Prepared) -> dict:
    """bench/plan_activation.py, last (it changes the book): a draft activated with a
    stage-based transition on the same workers."""
    module = bench_module("plan_activation")
    return module.activation_stage({"workspace": prepared.workspace, "workers": prepared.workers})


STAGES = [stage_simulation, stage_replay, stage_activation]
STAGE_NAMES = [stage.__name__.removeprefix("stage_") for stage in STAGES]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--territories", type=int, default=5000)
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--move-share", type=float, default=0.10)
    parser.add_argument("--deal-ratio", type=float, default=0.2)
    parser.add_argument("--chunk", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--stages",
        default=",".join(STAGE_NAMES),
        help=f"comma-separated, in this order: {', '.join(STAGE_NAMES)}",
    )
    args = parser.parse_args()
    chosen = [name for name in args.stages.split(",") if name]
    unknown = sorted(set(chosen) - set(STAGE_NAMES))
    if unknown:
        sys.exit(f"unknown stage(s): {', '.join(unknown)}")
    if not shutil.which("redis-server"):
        sys.exit("needs redis-server")
    print(postgres_settings())
    rng = random.Random(args.seed)
    workspace, plan = bench_book.build_book(args, rng)
    assign_book(workspace, plan)
    # bench-book's data has 200,000 deals: open ones, owned by their account's owner, so the
    # simulation has pipeline to move and the activation deals to keep or move.
    deals = bench_module("plan_activation").add_open_deals(workspace, args.deal_ratio)
    print(f"generated {deals:,} open deals")
    from members.models import Member

    members = list(Member.objects.filter(workspace=workspace))
    draft, moved = draft_moving(plan, args.move_share, rng, members)
    workers = bench_book.Workers(args.workers, args.chunk).wait_ready()
    try:
        prepared = Prepared(args, workspace, plan, draft, moved, workers)
        for name, stage in zip(STAGE_NAMES, STAGES, strict=True):
            if name in chosen:
                stage(prepared)
    finally:
        workers.stop()


if __name__ == "__main__":
    main()
