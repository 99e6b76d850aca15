"""Server time of the paged UI pages at scale: 10,000 members and 100,000 allocations.

Seeds its own database (revorg_uibench, created and migrated when missing; seeding is skipped
when the rows are already there), then renders each page in-process with Django's test client
and prints the median of N runs. Server time = request through middleware, view, queries and
template; no network or browser.

    .venv/bin/python bench/ui.py [--runs 21] [--members 10000] [--allocations 100000]
"""

import argparse
import os
import random
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DB_NAME = os.environ.get("BENCH_UI_DATABASE", "revorg_uibench")
os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
os.environ.setdefault("SECRET_KEY", "bench")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "revorg.settings")
os.environ.pop("REDIS_URL", None)
os.environ.setdefault("ALLOWED_HOSTS", "localhost")


def ensure_database() -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as c:
        if not c.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME]).fetchone():
            c.execute(f'CREATE DATABASE "{DB_NAME}"')


def seed(members: int, allocations: int):
    from django.contrib.auth import get_user_model

    from allocation.models import Allocation
    from members.models import Member
    from revorg.models import Workspace, WorkspaceMembership

    workspace, _ = Workspace.objects.get_or_create(slug="uibench", defaults={"name": "UI bench"})
    user, _ = get_user_model().objects.get_or_create(username="uibench")
    WorkspaceMembership.objects.get_or_create(workspace=workspace, user=user, role="admin")
    rng = random.Random(7)
    have = Member.objects.filter(workspace=workspace).count()
    if have < members:
        Member.objects.bulk_create(
            [
                Member(
                    workspace=workspace,
                    name=f"Rep {i:05d}",
                    email=f"rep{i}@bench.example",
                    role=rng.choice(["AE", "SDR", "manager"]),
                    metadata={"languages": rng.sample(["en", "fr", "de", "es"], 2)},
                )
                for i in range(have, members)
            ],
            batch_size=2000,
        )
    member_ids = list(Member.objects.filter(workspace=workspace).values_list("id", flat=True))
    from capacities.models import Capacity

    if not Capacity.objects.filter(workspace=workspace).exists():  # every other member
        Capacity.objects.bulk_create(
            [Capacity(workspace=workspace, member_id=m, limit=40) for m in member_ids[::2]],
            batch_size=2000,
        )
    have = Allocation.objects.filter(workspace=workspace).count()
    for start in range(have, allocations, 10_000):
        Allocation.objects.bulk_create(
            [
                Allocation(
                    workspace=workspace,
                    status="assigned" if i % 20 else "unassigned",
                    owner_id=rng.choice(member_ids) if i % 20 else None,
                    record_type="lead",
                    record_id=f"00Q{i:08d}",
                    record_fields={"country": "US", "employees": i % 5000},
                    decision=[{"step": "territory", "reason": "country in [US]"}],
                )
                for i in range(start, min(start + 10_000, allocations))
            ],
            batch_size=2000,
        )
    _seed_routing(workspace, member_ids, rng)
    return user


def _seed_routing(workspace, member_ids, rng) -> None:
    """What the routing views read: an active plan with 200 territories, slots and 2,000
    account locks; 5,000 records allocated again (their first entry superseded) and 2,000
    reassigned, so history pages show states and successors; absences and a default owner."""
    from allocation.models import Allocation
    from members.models import Absence
    from territories.models import AccountLock, Territory, TerritorySlot
    from territories.services import plan_ensure_active

    plan = plan_ensure_active(workspace=workspace)
    if not Territory.objects.filter(plan=plan).exists():
        Territory.objects.bulk_create(
            [Territory(workspace=workspace, plan=plan, name=f"T {i:03d}") for i in range(200)]
        )
        territory_ids = list(Territory.objects.filter(plan=plan).values_list("id", flat=True))
        TerritorySlot.objects.bulk_create(
            [
                TerritorySlot(workspace=workspace, territory_id=t, member_id=m, position=p)
                for t in territory_ids
                for p, m in enumerate(rng.sample(member_ids, 5))
            ]
        )
        AccountLock.objects.bulk_create(
            [
                AccountLock(
                    workspace=workspace,
                    account=f"account{i:05d}.example",
                    territory_id=rng.choice(territory_ids),
                    reason="bench",
                )
                for i in range(2000)
            ]
        )
        now = time.time()
        from datetime import UTC, datetime, timedelta

        start = datetime.fromtimestamp(now, UTC)
        Absence.objects.bulk_create(
            [
                Absence(
                    workspace=workspace,
                    member_id=m,
                    starts_at=start - timedelta(days=1),
                    ends_at=start + timedelta(days=rng.randint(1, 30)),
                )
                for m in member_ids[::20]
            ]
        )
        workspace.default_member_id = member_ids[0]
        workspace.save(update_fields=["default_member"])
    if not Allocation.objects.filter(workspace=workspace, is_current=False).exists():
        territory_ids = list(Territory.objects.filter(plan=plan).values_list("id", flat=True))
        replaced = list(Allocation.objects.filter(workspace=workspace).order_by("id")[:7000])
        reassigned = {a.pk for a in replaced[5000:]}
        Allocation.objects.filter(pk__in=[a.pk for a in replaced]).update(is_current=False)
        new_entries = []
        for a in replaced:
            owner = rng.choice(member_ids)
            new_entries.append(
                Allocation(
                    workspace=workspace,
                    status="assigned",
                    owner_id=owner,
                    record_type=a.record_type,
                    record_id=a.record_id,
                    record_fields=a.record_fields,
                    decision=[
                        {"step": "territory", "outcome": "matched", "territory": t}
                        for t in rng.sample(territory_ids, 3)
                    ]
                    + [{"step": "distribution", "outcome": "chosen", "member": owner}],
                    reassigned_from_id=a.pk if a.pk in reassigned else None,
                )
            )
        Allocation.objects.bulk_create(new_entries, batch_size=2000)


def measure(client, url: str, runs: int, data: dict | None = None) -> tuple[float, int]:
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        # production serves https only
        if data is None:
            response = client.get(url, secure=True)
        else:
            response = client.post(url, data, secure=True)
        timings.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return statistics.median(timings[1:] or timings), len(response.content)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--allocations", type=int, default=100_000)
    args = parser.parse_args()

    ensure_database()
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    from allocation.models import Allocation

    call_command("migrate", verbosity=0)
    user = seed(args.members, args.allocations)
    from django.db import connection

    with connection.cursor() as cursor:  # fresh bulk-loaded tables need planner statistics
        cursor.execute("ANALYZE")
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    middle = Allocation.objects.order_by("id").values_list("id", flat=True)[args.allocations // 2]
    newest = Allocation.objects.order_by("-id").values_list("id", flat=True).first()
    first_ids = list(Allocation.objects.order_by("id").values_list("id", flat=True)[:51])
    reassigned_id = (
        Allocation.objects.filter(is_current=False, reassignments__isnull=False)
        .values_list("id", flat=True)
        .first()
    )
    from django.db.models import Count

    from territories.models import Territory

    state = Territory.objects.order_by("id").first()  # one of the 200 seeded territories
    busiest = (
        Allocation.objects.exclude(owner=None)
        .values("owner_id")
        .annotate(n=Count("id"))
        .order_by("-n")
        .values_list("owner_id", flat=True)
        .first()
    )
    pages = [
        ("members, page 1", "/members/"),
        ("members, page 100", "/members/?page=100"),
        ("members, last page", "/members/?page=last"),
        ("members, search 'rep 0999'", "/members/?q=rep+0999"),
        ("members, role filter", "/members/?role=SDR&page=20"),
        ("allocations, newest page", "/allocations/"),
        ("allocations, keyset page mid-history", f"/allocations/?before={middle}"),
        ("allocations, unassigned queue", "/allocations/?status=unassigned"),
        ("allocations, failed write-backs", "/allocations/?writeback=failed"),
        ("capacities, page 1 (usage computed)", "/capacities/"),
        ("capacities, page 50", "/capacities/?page=50"),
        ("CRM connections and sync-run log", "/crm/"),
        ("dashboard (chart, utilisation, counts)", "/"),
        ("allocations, unassigned queue (current)", "/allocations/?status=unassigned&current=yes"),
        ("allocations, oldest page (replaced rows)", f"/allocations/?before={first_ids[50]}"),
        ("allocation detail (trace in names)", f"/allocations/{newest}/"),
        ("allocation detail, reassigned entry", f"/allocations/{reassigned_id}/"),
        ("member page (slots, usage, absences)", f"/members/{busiest}/"),
        ("member page, member's zone", f"/members/{busiest}/?zone=member"),
        ("account locks, active plan", "/account-locks/"),
        ("account locks, search", "/account-locks/?q=account0199"),
        ("workspace settings", "/settings/"),
        ("workspace settings, member search", "/settings/?member_q=rep+09"),
        ("your time zone (every IANA zone)", "/preferences/timezone/"),
        # Territories: the editor's suggestions read the history and the members' metadata keys.
        ("territories, list of 200", "/territories/"),
        ("territory editor", f"/territories/{state.pk}/"),
        ("territory editor, new", f"/territories/new/?plan={state.plan_id}"),
    ]
    posts = [
        (
            "Test a record (dry run)",
            "/territories/test-record/",
            {"record": "country: US\nstate: CA", "plan": state.plan_id},
        ),
    ]
    print(f"{args.members:,} members, {args.allocations:,} allocations; median of {args.runs}")
    for label, url in pages:
        median, size = measure(client, url, args.runs)
        print(f"{label:40s} {median:7.1f} ms   {size / 1024:6.1f} KiB")
    for label, url, data in posts:
        median, size = measure(client, url, args.runs, data)
        print(f"{label:40s} {median:7.1f} ms   {size / 1024:6.1f} KiB")


if __name__ == "__main__":
    main()
