"""Book re-evaluation at scale: 1,000,000 accounts, a 5,000-territory plan, 2 Celery workers.

Prints the time of the first full assignment, of a rerun with nothing changed, of a rerun
after 10,000 accounts changed (they move country), and of a naive per-account ORM loop
(resolve, supersede, insert the history entry, save the account: one account at a time) on
10,000 accounts, with the ratio per changed account. Accounts are generated in Postgres with
COPY; the plan comes from bench/match.py's generator, each territory with 2 primary reps
(round robin). Workers are real `celery worker` processes on a redis-server of our own.

Also prints the coverage report's time (GET /coverage/ through Django's stack, median of 5
after a cold run) and each worker's peak memory (VmHWM).

Run: make bench-book  (a fresh database revorg_book_bench; flags: --accounts, --territories,
--members, --opportunities, --workers, --changed, --naive, --chunk, --seed)."""

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "revorg.settings")
# The coverage report is read through Django's test client: plain http as "testserver".
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")

import django  # noqa: E402

django.setup()

from benchlib import Workers, postgres_settings, process_peak_rss  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402
from match import COUNTRIES, INDUSTRIES, STATES, build_plan  # noqa: E402

from allocation.models import Allocation, RotationState  # noqa: E402
from book import services as book_services  # noqa: E402
from book.models import Account  # noqa: E402
from jobs.models import Job  # noqa: E402
from members.models import Member  # noqa: E402
from revorg.models import Workspace  # noqa: E402
from revorg.services import api_key_create  # noqa: E402
from territories.models import Territory, TerritorySlot  # noqa: E402
from territories.selectors import matcher_for_plan  # noqa: E402
from territories.services import plan_ensure_active, plan_touch  # noqa: E402


def plan_with_reps(workspace, *, territories: int, members: int, rng):
    """The workspace's active plan with bench/match.py's `territories` (hierarchy, rules,
    named accounts) and `members` reps, two of them primaries of each territory; returns
    (plan, members, territories)."""
    plan = plan_ensure_active(workspace=workspace)
    reps = Member.objects.bulk_create(
        Member(workspace=workspace, name=f"Rep {i}", email=f"rep{i}@bench.example")
        for i in range(members)
    )
    infos = build_plan(territories, rng).territories
    created = Territory.objects.bulk_create(
        Territory(
            workspace=workspace,
            plan=plan,
            name=info.name,
            kind=info.kind,
            priority=info.priority,
            rule=info.rule,
            named_accounts=list(info.named_accounts),
        )
        for info in infos
    )
    ids = {info.id: territory.pk for info, territory in zip(infos, created, strict=True)}
    with_parent = []
    for info, territory in zip(infos, created, strict=True):
        if info.parent_id:
            territory.parent_id = ids[info.parent_id]
            with_parent.append(territory)
    Territory.objects.bulk_update(with_parent, ["parent"], batch_size=1000)
    TerritorySlot.objects.bulk_create(
        TerritorySlot(workspace=workspace, territory=t, member=m, role="primary", position=p)
        for t in created
        for p, m in enumerate(rng.sample(reps, 2))
    )
    plan_touch(plan_id=plan.pk)
    return plan, reps, created


def build_book(args, rng):
    workspace = Workspace.objects.create(slug=f"bench-book-{os.getpid()}", name="bench book")
    plan, _, _ = plan_with_reps(
        workspace, territories=args.territories, members=args.members, rng=rng
    )
    started = time.perf_counter()
    now = timezone.now()
    with connection.cursor() as cursor:
        with cursor.cursor.copy(
            "COPY book_account (workspace_id, crm_provider, crm_id, name, domain, fields, "
            "crm_owner_id, status, created_at, updated_at) FROM STDIN"
        ) as copy:
            for i in range(args.accounts):
                domain = f"acct{i}.example"
                fields = {
                    "country": rng.choice(COUNTRIES),
                    "state": rng.choice(STATES),
                    "postal_code": str(rng.randint(10000, 99999)),
                    "industry": rng.choice(INDUSTRIES),
                    "employees": rng.randint(1, 20000),
                    "annual_revenue": rng.randint(0, 80) * 1_000_000,
                    "domain": domain,
                }
                copy.write_row(
                    (workspace.pk, "", f"A{i:08d}", f"Account {i}", domain,
                     json.dumps(fields), "", "orphaned", now, now)
                )  # fmt: skip
        cursor.execute("ANALYZE book_account")
    print(
        f"generated {args.accounts:,} accounts with COPY in {time.perf_counter() - started:.1f} s"
    )
    return workspace, plan


DEAL_STAGES = [("Prospecting", 10), ("Qualification", 30), ("Proposal", 50), ("Commit", 90)]


def build_opportunities(workspace, count: int, rng) -> None:
    """`count` deals on every fifth account (then again from the first): 70 % open at a
    stage with its probability, the rest closed (40 % of them won) in the last two years."""
    started = time.perf_counter()
    today = timezone.now().date()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM book_account WHERE workspace_id = %s ORDER BY id", [workspace.pk]
        )
        account_ids = [row[0] for row in cursor.fetchall()][::5]
        with cursor.cursor.copy(
            "COPY book_opportunity (workspace_id, crm_provider, crm_id, account_id, name, stage, "
            "probability, amount, close_date, is_closed, is_won, created_date, closed_date, "
            "updated_at) FROM STDIN"
        ) as copy:
            for i in range(count):
                created = today - timedelta(days=rng.randint(30, 730))
                closed = rng.random() < 0.3
                won = closed and rng.random() < 0.4
                stage, probability = rng.choice(DEAL_STAGES)
                if closed:
                    stage, probability = ("Closed Won", 100) if won else ("Closed Lost", 0)
                close_date = created + timedelta(days=rng.randint(10, 180))
                copy.write_row(
                    (workspace.pk, "", f"O{i:08d}", account_ids[i % len(account_ids)],
                     f"Deal {i}", stage, probability, rng.randint(1, 200) * 1000, close_date,
                     closed, won, created, close_date if closed else None, timezone.now())
                )  # fmt: skip
        cursor.execute("ANALYZE book_opportunity")
    print(f"generated {count:,} opportunities with COPY in {time.perf_counter() - started:.1f} s")


def coverage_timing(workspace, repeat: int = 5) -> tuple[float, float]:
    """GET /api/v1/coverage/ through Django's whole stack with an API key: (cold, median) ms."""
    key = api_key_create(workspace=workspace, name="bench", scopes="read")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {key.raw_key}")
    times = []
    for _ in range(repeat + 1):
        started = time.perf_counter()
        response = client.get("/api/v1/coverage/")
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.content[:300]
    return times[0], statistics.median(times[1:])


def analyze() -> None:
    """What autovacuum does after a table grew by more than a tenth (this machine's Postgres
    runs with autovacuum off): the reruns are planned on the statistics of a book that has
    owners and a history."""
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE book_account")
        cursor.execute("ANALYZE allocation_allocation")


def run_job(workspace, label) -> Job:
    started = time.perf_counter()
    with transaction.atomic():
        job = book_services.book_reevaluate_start(workspace=workspace, actor_label=label)
    while True:
        job.refresh_from_db()
        if job.status not in ("queued", "running"):
            break
        time.sleep(0.2)
    elapsed = time.perf_counter() - started
    result = job.result
    print(
        f"{label:<32} {elapsed:8.1f} s  {job.status}: {result.get('evaluated', 0):,} evaluated, "
        f"{result.get('changed', 0):,} changed, {result.get('entries', 0):,} history entries"
    )
    job.elapsed = elapsed
    return job


def move_accounts(workspace, count, *, exclude=()):
    """`count` accounts move to another country, arriving as a CRM or CSV update does
    (book.services.accounts_upsert): their territory changes."""
    rows = list(
        Account.objects.filter(workspace=workspace)
        .exclude(pk__in=exclude)
        .order_by("?")
        .values("id", "crm_id", "name", "domain", "fields", "owner_id", "crm_owner_id")[:count]
    )
    for row in rows:
        country = row["fields"].get("country")
        row["fields"]["country"] = COUNTRIES[1] if country == COUNTRIES[0] else COUNTRIES[0]
    with transaction.atomic():
        book_services.accounts_upsert(workspace_id=workspace.pk, provider="", rows=rows)
    return [row["id"] for row in rows]


def naive_loop(workspace, plan, ids) -> float:
    """The straightforward way: one account at a time through the ORM."""
    matcher = matcher_for_plan(plan=plan)
    started = time.perf_counter()
    for account in Account.objects.filter(pk__in=ids):
        with transaction.atomic():
            record = {**account.fields, "account_id": account.crm_id, "domain": account.domain}
            winner = matcher.resolve(record).winner
            owner_id = None
            if winner is not None:
                order = [s.member_id for s in winner.slots if s.role == "primary"]
                state, _ = RotationState.objects.select_for_update().get_or_create(
                    territory_id=winner.id, defaults={"workspace": workspace}
                )
                last = (
                    order.index(state.pointer_member_id) if state.pointer_member_id in order else -1
                )
                owner_id = order[(last + 1) % len(order)] if order else None
                state.pointer_member_id = owner_id
                state.save()
            Allocation.objects.filter(
                workspace=workspace,
                record_type="account",
                record_id=account.crm_id,
                is_current=True,
            ).update(is_current=False)
            Allocation.objects.create(
                workspace=workspace, status="assigned" if owner_id else "unassigned",
                owner_id=owner_id, territory_id=winner.id if winner else None,
                record_type="account", record_id=account.crm_id, record_fields=record,
                decision=list(matcher.resolve(record).trace), actor_label="naive loop",
            )  # fmt: skip
            account.territory_id = winner.id if winner else None
            account.owner_id = owner_id
            account.status = "assigned" if winner else "orphaned"
            account.assigned_at = timezone.now()
            account.save()
    return time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--territories", type=int, default=5000)
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--opportunities", type=int, default=200_000)
    parser.add_argument("--changed", type=int, default=10_000)
    parser.add_argument("--naive", type=int, default=10_000)
    parser.add_argument("--chunk", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if not shutil.which("redis-server"):
        sys.exit("needs redis-server")
    print(postgres_settings())
    rng = random.Random(args.seed)
    workspace, plan = build_book(args, rng)
    build_opportunities(workspace, args.opportunities, rng)
    workers = Workers(args.workers, args.chunk)
    try:
        full = run_job(workspace, "first full assignment")
        analyze()
        rerun = run_job(workspace, "rerun, nothing changed")
        moved = move_accounts(workspace, args.changed)
        changed = run_job(workspace, f"rerun, {args.changed:,} accounts changed")
        peaks = [process_peak_rss(p.pid) for p in workers.processes]
    finally:
        workers.stop()
    cold, median = coverage_timing(workspace)
    print(f"{'coverage report (GET /coverage/)':<32} {median:8.0f} ms  (cold {cold:.0f} ms)")
    print(
        f"{'peak memory per worker':<32} "
        + ", ".join(f"{peak / 2**20:,.0f} MiB" for peak in peaks)
        + "  (VmHWM; target ≤ 1 GiB)"
    )
    naive_ids = move_accounts(workspace, args.naive, exclude=moved)
    naive = naive_loop(workspace, plan, naive_ids)
    print(f"{'naive ORM loop, ' + format(args.naive, ',') + ' accounts':<32} {naive:8.1f} s")
    per_naive = naive / args.naive
    per_job = changed.elapsed / max(1, changed.result.get("changed", 0))
    marginal = max(changed.elapsed - rerun.elapsed, 1e-9)
    print(
        f"whole job vs naive loop: {naive / changed.elapsed:.1f}x "
        f"({per_naive * 1000:.2f} ms vs {per_job * 1000:.2f} ms per changed account, the job "
        "also scanning the whole book)"
    )
    print(
        f"writes only (changed rerun - no-change rerun = {marginal:.1f} s): "
        f"{naive / marginal:.1f}x faster than the naive loop"
    )
    print(
        f"first assignment: {args.accounts / full.elapsed:,.0f} accounts/s; no-change rerun: "
        f"{args.accounts / rerun.elapsed:,.0f} accounts/s"
    )


if __name__ == "__main__":
    main()
