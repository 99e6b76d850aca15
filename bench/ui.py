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
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")  # in-process over plain http: no redirect


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


def seed_territories(workspace, member_ids: list[int]):
    """An active plan of 200 territories (20 countries, each with 9 state children), 4
    primaries each, a language eligibility rule on the countries; returns a state territory."""
    from territories.models import Territory, TerritorySlot
    from territories.services import plan_ensure_active

    plan = plan_ensure_active(workspace=workspace)
    if not Territory.objects.filter(plan=plan).exists():
        countries = Territory.objects.bulk_create(
            Territory(
                workspace=workspace,
                plan=plan,
                name=f"Country {c:02d}",
                kind="geographic",
                priority=10,
                rule={"field": "country", "op": "eq", "value": f"C{c:02d}"},
                member_rule={"field": "language", "op": "in", "value_from": "member.languages"},
            )
            for c in range(20)
        )
        states = Territory.objects.bulk_create(
            Territory(
                workspace=workspace,
                plan=plan,
                parent=country,
                name=f"{country.name} state {s}",
                kind="geographic",
                priority=20,
                rule={"field": "state", "op": "in", "value": [f"S{s}", f"T{s}"]},
                distribution="weighted",
                fallback_territory=country,
            )
            for country in countries
            for s in range(9)
        )
        rng = random.Random(11)
        TerritorySlot.objects.bulk_create(
            TerritorySlot(
                workspace=workspace, territory=t, member_id=m, weight=rng.randint(1, 3), position=i
            )
            for t in countries + states
            for i, m in enumerate(rng.sample(member_ids, 4))
        )
    return Territory.objects.filter(plan=plan, parent__isnull=False).order_by("id").first()


def measure(client, url: str, runs: int, data: dict | None = None) -> tuple[float, int]:
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get(url) if data is None else client.post(url, data)
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
    from members.models import Member
    from revorg.models import Workspace

    workspace = Workspace.objects.get(slug="uibench")
    state = seed_territories(
        workspace, list(Member.objects.filter(workspace=workspace).values_list("id", flat=True))
    )
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
        # Territories: 200 territories; the editor's suggestions read the 100,000-row history
        # and the 10,000 members' metadata keys.
        ("territories, tree of 200", "/territories/"),
        ("territory editor", f"/territories/{state.pk}/"),
        ("territory editor, new", f"/territories/new/?plan={state.plan_id}"),
    ]
    posts = [
        (
            "Test a record (dry run)",
            "/territories/test-record/",
            {"record": "country: C03\nstate: S4\nlanguage: fr", "plan": state.plan_id},
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
