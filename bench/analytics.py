"""Territory and rep analytics at scale: 1,000,000 accounts, 200,000 opportunities (with two
years of closed history), 5,000 territories, 2,000 reps.

Prints the server time of `/analytics/territories/` and `/analytics/members/` for one fiscal
quarter (the whole request through Django's test client: authentication, the aggregates,
the roll-up over the territory tree and the JSON), best and median of `--repeat` runs, and
the time of the territory selector alone. The data is generated in Postgres with COPY: the
plan from bench/match.py's generator (a hierarchy), accounts spread over its territories
with an owner from each territory's two primaries (what a re-evaluation would have done;
bench-book measures that part), deals on random accounts — 60 % closed (40 % of those won)
over the last two years, 5 % of closed deals in a territory their account has since left —,
a quota per territory and rep per quarter, an overlay with 10 % credit on 500 territories,
and 100,000 allocations of the last year.

Run: make bench-analytics  (a fresh database revorg_analytics_bench; flags: --accounts,
--opportunities, --territories, --members, --allocations, --repeat, --seed; `--reuse`
measures the book of the previous run again without generating one:
`DATABASE_URL=…/revorg_analytics_bench SECRET_KEY=bench .venv/bin/python bench/analytics.py
--reuse`)."""

import argparse
import json
import os
import random
import statistics
import sys
import time
from datetime import timedelta
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
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402
from match import COUNTRIES, INDUSTRIES  # noqa: E402

from analytics import selectors  # noqa: E402
from analytics.models import Quota  # noqa: E402
from analytics.periods import fiscal_quarter_of, fiscal_quarters, fiscal_year_of  # noqa: E402
from revorg import services as revorg_services  # noqa: E402
from revorg.models import Workspace  # noqa: E402
from territories.models import TerritorySlot  # noqa: E402
from territories.services import plan_ensure_active, plan_touch  # noqa: E402

bench_book = bench_module("book")  # its plan and reps generator


def _copy(table: str, columns: list[str], rows) -> None:
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


def build(args, rng):
    started = time.perf_counter()
    workspace = Workspace.objects.create(slug=f"bench-analytics-{os.getpid()}", name="bench")
    plan, members, created = bench_book.plan_with_reps(
        workspace, territories=args.territories, members=args.members, rng=rng
    )
    primaries: dict[int, list[int]] = {}
    for territory_id, member_id in (
        TerritorySlot.objects.filter(territory__plan=plan, role="primary")
        .order_by("territory_id", "position")
        .values_list("territory_id", "member_id")
    ):
        primaries.setdefault(territory_id, []).append(member_id)
    TerritorySlot.objects.bulk_create(
        [
            TerritorySlot(workspace=workspace, territory=t, member=rng.choice(members),
                          role="overlay", credit_percent=10)
            for t in rng.sample(created, min(500, len(created)))
        ],
        batch_size=2000,
    )  # fmt: skip
    plan_touch(plan_id=plan.pk)
    territory_ids = list(primaries)
    now = timezone.now()
    account_territory = [rng.choice(territory_ids) for _ in range(args.accounts)]
    account_owner = [rng.choice(primaries[t]) for t in account_territory]
    _copy(
        "book_account",
        ["workspace_id", "crm_provider", "crm_id", "name", "domain", "fields", "territory_id",
         "owner_id", "crm_owner_id", "status", "assigned_at", "created_at", "updated_at"],
        (
            (workspace.pk, "", f"A{i:08d}", f"Account {i}", f"acct{i}.example",
             json.dumps({"country": rng.choice(COUNTRIES), "industry": rng.choice(INDUSTRIES)}),
             account_territory[i], account_owner[i], "", "assigned", now, now, now)
            for i in range(args.accounts)
        ),
    )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("SELECT min(id) FROM book_account WHERE workspace_id = %s", [workspace.pk])
        first_account = cursor.fetchone()[0]
    today = timezone.localdate()

    def deal(i):
        index = rng.randrange(args.accounts)
        created_on = today - timedelta(days=rng.randint(30, 760))
        closed = rng.random() < 0.6
        won = closed and rng.random() < 0.4
        close_on = created_on + timedelta(days=rng.randint(5, 180))
        closed_in = None
        if closed:
            moved = rng.random() < 0.05
            closed_in = rng.choice(territory_ids) if moved else account_territory[index]
        else:
            close_on = today + timedelta(days=rng.randint(-30, 200))
        return (
            workspace.pk, "", f"O{i:08d}", first_account + index, f"Deal {i}",
            account_owner[index], "Closed Won" if won else ("Closed Lost" if closed else "Open"),
            100 if won else (0 if closed else 40), rng.randint(1, 200) * 500, close_on, closed,
            won, created_on, close_on if closed else None, closed_in, now,
        )  # fmt: skip

    _copy(
        "book_opportunity",
        ["workspace_id", "crm_provider", "crm_id", "account_id", "name", "owner_id", "stage",
         "probability", "amount", "close_date", "is_closed", "is_won", "created_date",
         "closed_date", "closed_territory_id", "updated_at"],
        (deal(i) for i in range(args.opportunities)),
    )  # fmt: skip
    year = fiscal_year_of(today, workspace.fiscal_year_start_month)
    quarters = fiscal_quarters(year)
    Quota.objects.bulk_create(
        [
            Quota(workspace=workspace, territory_id=t, period_start=q.start, period_end=q.end,
                  amount=rng.randint(20, 400) * 1000)
            for t in territory_ids
            for q in quarters
        ]
        + [
            Quota(workspace=workspace, member=m, period_start=year.start, period_end=year.end,
                  amount=rng.randint(200, 2000) * 1000)
            for m in members
        ],
        batch_size=5000,
    )  # fmt: skip
    since = now - timedelta(days=365)

    def allocation(i):
        index = rng.randrange(args.accounts)
        return (
            workspace.pk, "assigned", account_owner[index], account_territory[index], "lead",
            f"L{i:08d}", "", "{}", "[]", "[]", "", "", "", "bench",
            since + timedelta(seconds=rng.randint(0, 365 * 86400)), False,
        )  # fmt: skip

    _copy(
        "allocation_allocation",
        ["workspace_id", "status", "owner_id", "territory_id", "record_type", "record_id",
         "record_crm", "record_fields", "decision", "overlays", "play_run_id", "play_run_url",
         "reason", "actor_label", "created_at", "is_current"],
        (allocation(i) for i in range(args.allocations)),
    )  # fmt: skip
    with connection.cursor() as cursor:
        # What autovacuum does after a bulk load: statistics, and the visibility map that
        # lets the account counts be answered from the (workspace, territory) index alone.
        for table in ("book_account", "book_opportunity", "allocation_allocation"):
            cursor.execute(f"VACUUM ANALYZE {table}")
    print(
        f"generated {args.accounts:,} accounts, {args.opportunities:,} opportunities, "
        f"{len(territory_ids):,} territories, {args.allocations:,} allocations "
        f"in {time.perf_counter() - started:.1f} s"
    )
    return workspace, plan


def timed(label: str, call, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - started)
    print(
        f"{label:<44} best {min(times) * 1000:7.0f} ms   median "
        f"{statistics.median(times) * 1000:7.0f} ms   ({result})"
    )
    return times


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--opportunities", type=int, default=200_000)
    parser.add_argument("--territories", type=int, default=5000)
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--allocations", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--reuse", action="store_true", help="measure the book a previous run generated"
    )
    args = parser.parse_args()
    rng = random.Random(args.seed)
    if args.reuse:
        workspace = Workspace.objects.filter(slug__startswith="bench-analytics-").latest("id")
        plan = plan_ensure_active(workspace=workspace)
    else:
        workspace, plan = build(args, rng)
    quarter = fiscal_quarter_of(timezone.localdate(), workspace.fiscal_year_start_month)
    key = revorg_services.api_key_create(workspace=workspace, name="bench", scopes="read").raw_key
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    query = {"period_start": quarter.start.isoformat(), "period_end": quarter.end.isoformat()}

    def get(path):
        def call():
            response = client.get(path, query, secure=True)
            assert response.status_code == 200, (response.status_code, response.content[:300])
            return f"{len(response.json()['results']):,} rows"

        return call

    print(f"period: {quarter.label} ({quarter.start} – {quarter.end})")
    print("load average (1, 5, 15 min): " + ", ".join(f"{v:.2f}" for v in os.getloadavg()))
    timed(
        "territory selector (SQL + roll-up)",
        lambda: f"{len(selectors.territory_performance(workspace=workspace, plan=plan, period=quarter)):,} rows",  # noqa: E501
        args.repeat,
    )
    timed(
        "GET /analytics/territories/ (server time)",
        get("/api/v1/analytics/territories/"),
        args.repeat,
    )
    timed("GET /analytics/members/ (server time)", get("/api/v1/analytics/members/"), args.repeat)
    # The machine is shared: a figure means little without the load it was taken under.
    print("load average (1, 5, 15 min): " + ", ".join(f"{v:.2f}" for v in os.getloadavg()))


if __name__ == "__main__":
    main()
