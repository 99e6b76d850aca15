"""Allocation throughput: gunicorn (4 workers) on Postgres, 200 members, 500 territories,
capacities on half the members; POST /api/v1/allocations/ at concurrency 1, 8, 32; then
pgbench running the equivalent SQL (one counter UPDATE … RETURNING + one INSERT) as the
physical ceiling; then the latency again with 1,000,000 history rows.

    .venv/bin/python bench/allocate.py [--seconds 20] [--skip-million]
"""

import argparse
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DB = "revorg_bench"
PG = "postgres://postgres@127.0.0.1:5432"
PORT = 8765
ENV = {
    **os.environ,
    "DATABASE_URL": f"{PG}/{DB}",
    "SECRET_KEY": "bench",
    "DATABASE_POOL": "1",
    "API_KEY_THROTTLE_RATE": "10000000/min",
    "SECURE_SSL_REDIRECT": "0",  # the bench talks plain http to gunicorn on loopback
    "DJANGO_SETTINGS_MODULE": "revorg.settings",
}


def psql(sql: str, db: str = "postgres") -> str:
    return subprocess.run(
        ["psql", f"{PG}/{db}", "-qAtc", sql], check=True, capture_output=True, text=True
    ).stdout


def setup_database() -> str:
    psql(f"DROP DATABASE IF EXISTS {DB}")
    psql(f"CREATE DATABASE {DB}")
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=ENV, check=True)
    seed = """
import random
from members.models import Member
from territories.models import Territory, TerritorySlot
from capacities.models import Capacity
from tests.factories import active_plan, api_key_for
random.seed(7)
from revorg.services import workspace_create
ws = workspace_create(name="Bench", slug="bench")
plan = active_plan(ws)
members = Member.objects.bulk_create(
    [Member(workspace=ws, name=f"Rep {i}", timezone="Europe/Paris") for i in range(200)])
Capacity.objects.bulk_create([Capacity(workspace=ws, member=m, limit=1000000, period="day")
                              for m in members[::2]])
countries = [f"C{i:03d}" for i in range(500)]
territories = Territory.objects.bulk_create([
    Territory(workspace=ws, plan=plan, name=f"T{i}",
              rule={"field": "country", "op": "eq", "value": countries[i]})
    for i in range(500)])
TerritorySlot.objects.bulk_create([
    TerritorySlot(workspace=ws, territory=t, member=m, role="primary")
    for t in territories for m in random.sample(members, 3)])
plan.version += 1
plan.save()
print(api_key_for(ws, scopes="read,write,allocate"))
"""
    out = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", seed],
        cwd=ROOT,
        env=ENV,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return out.strip().splitlines()[-1]


def wait_ready(timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=5)
            conn.request("GET", "/api/v1/allocations/")
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.5)
    raise SystemExit("gunicorn did not start")


def drive(key: str, concurrency: int, seconds: float) -> dict:
    latencies, errors = [], [0]
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
        local, bad = [], 0
        while time.monotonic() < stop:
            body = json.dumps(
                {"record": {"type": "lead", "fields": {"country": f"C{random.randrange(500):03d}"}}}
            )
            started = time.perf_counter()
            try:
                conn.request(
                    "POST",
                    "/api/v1/allocations/",
                    body,
                    {"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
                )
                response = conn.getresponse()
                response.read()
                if response.status != 201:
                    bad += 1
            except (OSError, http.client.HTTPException):
                bad += 1
                conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
            local.append(time.perf_counter() - started)
        with lock:
            latencies.extend(local)
            errors[0] += bad

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if len(latencies) < 2:
        raise SystemExit(f"no requests completed at concurrency {concurrency}, {errors[0]} errors")
    q = statistics.quantiles(latencies, n=100)
    return {
        "concurrency": concurrency,
        "per_s": len(latencies) / seconds,
        "p50": q[49] * 1000,
        "p95": q[94] * 1000,
        "p99": q[98] * 1000,
        "errors": errors[0],
    }


def cpu_by_role(server_pid: int) -> dict[str, float]:
    """CPU seconds used so far by the gunicorn workers, the Postgres backends and this load
    generator (from /proc): on a shared 2-core machine, the split tells where the time goes
    more steadily than the throughput does."""
    totals = {"gunicorn": 0.0, "postgres": 0.0, "load generator": 0.0}
    tick = os.sysconf("SC_CLK_TCK")
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        seconds = (int(fields[11]) + int(fields[12])) / tick
        if int(fields[1]) == server_pid:  # a worker of the gunicorn master
            totals["gunicorn"] += seconds
        elif name == "postgres":
            totals["postgres"] += seconds
        elif int(pid) == os.getpid():
            totals["load generator"] += seconds
    return totals


def pgbench(seconds: int) -> float:
    psql(
        "CREATE TABLE IF NOT EXISTS bench_counter (id int primary key, n bigint);"
        "CREATE TABLE IF NOT EXISTS bench_log "
        "(id bigserial primary key, owner int, at timestamptz);"
        "INSERT INTO bench_counter SELECT g, 0 FROM generate_series(1, 500) g "
        "ON CONFLICT DO NOTHING",
        DB,
    )
    script = (
        "\\set t random(1, 500)\nBEGIN;\n"
        "UPDATE bench_counter SET n = n + 1 WHERE id = :t RETURNING n;\n"
        "INSERT INTO bench_log (owner, at) VALUES (:t, now());\nEND;\n"
    )
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write(script)
    out = subprocess.run(
        [
            "pgbench",
            "-n",
            "-c",
            "8",
            "-j",
            "2",
            "-T",
            str(seconds),
            "-f",
            f.name,
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            DB,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    line = next(x for x in out.splitlines() if x.startswith("tps"))
    return float(line.split("=")[1].split()[0])


def fill_history(rows: int) -> None:
    psql(
        f"""INSERT INTO allocation_allocation (workspace_id, status, owner_id, record_type,
        record_id, record_crm, record_fields, decision, overlays, play_run_id, play_run_url,
        reason, actor_label, created_at, is_current)
        SELECT (SELECT id FROM revorg_workspace WHERE slug='bench'), 'assigned',
               (SELECT min(id) FROM members_member) + (g % 200), 'lead', '', '', '{{}}', '[]',
               '[]', '', '', '', 'bench', now() - (g || ' seconds')::interval, false
        FROM generate_series(1, {rows}) g""",
        DB,
    )
    vacuum_analyze()


def vacuum_analyze() -> None:
    """What autovacuum does on its own in production; this box's Postgres may have it off."""
    psql("VACUUM ANALYZE", DB)


def report(rows: list[dict], title: str) -> None:
    print(f"\n{title}\n| concurrency | allocations/s | p50 ms | p95 ms | p99 ms | errors |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['concurrency']} | {r['per_s']:.0f} | {r['p50']:.1f} | {r['p95']:.1f} "
            f"| {r['p99']:.1f} | {r['errors']} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--skip-million", action="store_true")
    args = parser.parse_args()
    key = setup_database()
    server = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "revorg.wsgi:application",
            "-w",
            "4",
            "-b",
            f"127.0.0.1:{PORT}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=ENV,
    )
    try:
        wait_ready()
        # A deployment that has run for a minute: rotation rows exist, history has begun, and
        # autovacuum has been by (here it may be off). Statements prepared against the empty
        # tables are planned again after ANALYZE (they had kept sequential scans), and the
        # visibility map lets usage counts stay index-only.
        drive(key, 8, 3)
        vacuum_analyze()
        rows, cpu_per_allocation = [], {}
        for concurrency in (1, 8, 32):
            before = cpu_by_role(server.pid)
            rows.append(drive(key, concurrency, args.seconds))
            if concurrency == 8:
                done = rows[-1]["per_s"] * args.seconds
                after = cpu_by_role(server.pid)
                cpu_per_allocation = {k: (after[k] - before[k]) / done for k in after}
        report(rows, "Allocate (empty history)")
        print(
            "\nCPU per allocation at c=8: "
            + ", ".join(f"{k} {v * 1000:.2f} ms" for k, v in cpu_per_allocation.items())
        )
        tps = pgbench(int(args.seconds))
        c8 = next(r for r in rows if r["concurrency"] == 8)
        print(
            f"\npgbench ceiling (UPDATE … RETURNING + INSERT, 8 clients): {tps:.0f} TPS; "
            f"allocations/s at c=8 is {c8['per_s'] / tps:.1%} of it"
        )
        if not args.skip_million:
            fill_history(1_000_000)
            big = drive(key, 8, args.seconds)
            report([big], "Allocate at concurrency 8 with 1,000,000 history rows")
            print(f"p50 change vs empty history: {big['p50'] / c8['p50'] - 1:+.0%}")
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
