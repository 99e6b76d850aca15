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
DB_NAME = "revorg_uibench"
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
    return user


def measure(client, url: str, runs: int) -> tuple[float, int]:
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get(url)
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
    ]
    print(f"{args.members:,} members, {args.allocations:,} allocations; median of {args.runs}")
    for label, url in pages:
        median, size = measure(client, url, args.runs)
        print(f"{label:40s} {median:7.1f} ms   {size / 1024:6.1f} KiB")


if __name__ == "__main__":
    main()
