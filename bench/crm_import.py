"""Book imports at scale: 100,000 accounts from the fake Salesforce through the real
simple-salesforce (Bulk API 2.0 query job, CSV results paged by Sforce-Locator, 50,000
records a page), and 100,000 CSV rows through the book's CSV import.

Each import runs as its job, inline in this process (JOBS_EAGER_MODE=inline, no broker): the
figure is the job's own wall time (started → finished); the re-evaluation the sync queues
afterwards is timed separately. The fake Salesforce (tests/crm_sync/fake_salesforce.py) runs
in this process too, so its CSV encoding shares the CPU with the import.

Run: make bench-import  (a fresh database revorg_import_bench; flags: --accounts, --rows,
--page)."""

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "revorg.settings")
os.environ["CRM_ALLOW_PRIVATE_HOSTS"] = "1"
os.environ["JOBS_EAGER_MODE"] = "inline"
os.environ.pop("CELERY_BROKER_URL", None)

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import transaction  # noqa: E402

from book import services as book_services  # noqa: E402
from book.models import Account  # noqa: E402
from crm_sync import book_sync  # noqa: E402
from crm_sync.services import connection_create  # noqa: E402
from jobs.models import Job  # noqa: E402
from revorg.models import Workspace  # noqa: E402
from tests.crm_sync.fake_salesforce import FakeSalesforce  # noqa: E402

COUNTRIES = ["US", "CA", "GB", "DE", "FR", "ES", "IT", "NL", "BR", "JP"]
INDUSTRIES = ["Software", "Retail", "Energy", "Health", "Finance", "Media"]


def _accounts(n, rng):
    return [
        {
            "Id": f"001{i:012d}",
            "Name": f"Account {i}",
            "OwnerId": f"005{rng.randrange(200):012d}",
            "BillingCountry": rng.choice(COUNTRIES),
            "BillingState": f"S{rng.randrange(50)}",
            "BillingPostalCode": f"{rng.randrange(100000):05d}",
            "BillingCity": f"City {rng.randrange(1000)}",
            "Industry": rng.choice(INDUSTRIES),
            "NumberOfEmployees": rng.randrange(1, 50000),
            "AnnualRevenue": float(rng.randrange(10**4, 10**9)),
            "Website": f"https://www.account{i}.example",
            "SystemModstamp": "2026-11-01T10:00:00.000+0000",
        }
        for i in range(n)
    ]


def _job_seconds(job) -> float:
    job.refresh_from_db()
    assert job.status == "succeeded", (job.status, job.errors[:3])
    return (job.finished_at - job.started_at).total_seconds()


def bench_salesforce(args, rng) -> None:
    workspace = Workspace.objects.create(slug=f"bench-import-{os.getpid()}", name="bench import")
    with FakeSalesforce(page_size=2000) as fake, tempfile.NamedTemporaryFile(suffix=".pem") as ca:
        fake.ca.cert_pem.write_to_path(ca.name)
        os.environ["REQUESTS_CA_BUNDLE"] = ca.name
        fake.accounts = _accounts(args.accounts, rng)
        connection = connection_create(
            workspace=workspace,
            provider="salesforce",
            name="bench",
            settings={
                "instance_url": fake.instance_url,
                "login_url": fake.instance_url,
                "bulk_page_size": args.page,
            },
            credentials={"client_id": "cid", "client_secret": "shh"},
        )
        started = time.perf_counter()
        with transaction.atomic():  # the job runs inline when this commits
            job = book_sync.book_sync_start(connection=connection, actor_label="bench")
        total = time.perf_counter() - started
        seconds = _job_seconds(job)
    count = Account.objects.filter(workspace=workspace).count()
    reevaluation = Job.objects.filter(workspace=workspace, handler=book_services.REEVALUATE).first()
    print(
        f"Salesforce Bulk API 2.0 import: {count:,} accounts in {seconds:.1f} s "
        f"({count / seconds:,.0f} accounts/s; {len(fake.bulk_results)} result pages, "
        f"target ≤ 60 s)"
    )
    if reevaluation is not None:
        print(
            f"  then the queued re-evaluation (no active plan: all orphaned): "
            f"{_job_seconds(reevaluation):.1f} s; whole command {total:.1f} s"
        )


def bench_csv(args, rng) -> None:
    workspace = Workspace.objects.create(slug=f"bench-csv-{os.getpid()}", name="bench csv")
    lines = ["crm_id,name,domain,country,state,industry,employees"]
    for i in range(args.rows):
        lines.append(
            f"C{i},Company {i},company{i}.example,{rng.choice(COUNTRIES)},S{rng.randrange(50)},"
            f"{rng.choice(INDUSTRIES)},{rng.randrange(1, 50000)}"
        )
    raw = ("\n".join(lines) + "\n").encode()
    settings.BOOK_IMPORT_MAX_BYTES = len(raw)
    with transaction.atomic():
        job = book_services.book_import_start(
            workspace=workspace, actor_label="bench", kind="accounts", raw=raw
        )
    seconds = _job_seconds(job)
    count = Account.objects.filter(workspace=workspace).count()
    print(
        f"CSV import: {count:,} rows ({len(raw) / 1e6:.1f} MB) in {seconds:.1f} s "
        f"({count / seconds:,.0f} rows/s, target ≤ 20 s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--page", type=int, default=50_000, help="Bulk API records a page")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    bench_salesforce(args, rng)
    bench_csv(args, rng)


if __name__ == "__main__":
    main()
