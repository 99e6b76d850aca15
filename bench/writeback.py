"""Drains 10,000 pending Salesforce write-backs against the local fake (5 ms per call).

Run: DATABASE_URL=... SECRET_KEY=t .venv/bin/python bench/writeback.py  (migrated database;
the bench creates its own workspace and deletes it afterwards)."""

import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "revorg.settings")
os.environ.setdefault("CRM_ALLOW_PRIVATE_HOSTS", "1")  # the fake listens on 127.0.0.1

import django

django.setup()

from allocation.models import Allocation  # noqa: E402
from crm_sync.crypto import credentials_encrypt  # noqa: E402
from crm_sync.models import CrmConnection, WritebackOutbox  # noqa: E402
from crm_sync.services import writeback_drain_workspace  # noqa: E402
from revorg.models import Workspace  # noqa: E402
from tests.crm_sync.fake_salesforce import FakeSalesforce  # noqa: E402

N = 10_000


def main() -> None:
    workspace = Workspace.objects.create(slug=f"bench-writeback-{os.getpid()}", name="bench")
    try:
        with (
            FakeSalesforce(latency=0.005) as fake,
            tempfile.NamedTemporaryFile(suffix=".pem") as bundle,
        ):
            fake.ca.cert_pem.write_to_path(bundle.name)
            os.environ["REQUESTS_CA_BUNDLE"] = bundle.name
            CrmConnection.objects.create(
                workspace=workspace,
                provider="salesforce",
                settings={"instance_url": fake.instance_url},
                credentials_encrypted=credentials_encrypt(
                    credentials={"access_token": "static-token"}
                ),
            )
            allocations = Allocation.objects.bulk_create(
                Allocation(
                    workspace=workspace,
                    status="assigned",
                    record_type="contact",
                    record_id=f"003{i:012d}",
                    record_crm="salesforce",
                )
                for i in range(N)
            )
            WritebackOutbox.objects.bulk_create(
                WritebackOutbox(
                    workspace=workspace,
                    allocation=a,
                    provider="salesforce",
                    record_type="contact",
                    record_id=a.record_id,
                    owner_crm_user_id="005A",
                )
                for a in allocations
            )
            start = time.perf_counter()
            totals = writeback_drain_workspace(workspace_id=workspace.id)
            elapsed = time.perf_counter() - start
        print(
            f"write-back: {totals['succeeded']} records in {elapsed:.2f}s = "
            f"{totals['succeeded'] / elapsed:,.0f} records/s; CRM calls {len(fake.calls)} "
            f"({totals['succeeded'] / max(1, len(fake.calls)):.0f} records/call); "
            f"failed {totals['failed']}"
        )
    finally:
        WritebackOutbox.objects.filter(workspace=workspace).delete()
        Allocation.objects.filter(workspace=workspace).delete()
        workspace.delete()


if __name__ == "__main__":
    main()
