"""`make run` uses SQLite and eager tasks: the demo must allocate there too, not only on the
Postgres the rest of the suite uses."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import json, django
django.setup()
from django.core.management import call_command
from io import StringIO
from rest_framework.test import APIClient
call_command("migrate", verbosity=0)
out = StringIO()
call_command("load_demo", stdout=out)
client = APIClient(SERVER_NAME="127.0.0.1")
client.credentials(HTTP_AUTHORIZATION="Bearer " + out.getvalue().strip().splitlines()[-1])
record = {"type": "lead", "id": "00Q1", "crm": "salesforce",
          "fields": {"country": "US", "state": "CA", "industry": "healthcare"}}
results = []
for number in range(4):
    response = client.post(
        "/api/v1/allocations/", {"record": {**record, "id": f"00Q{number}"}}, format="json"
    )
    results.append([response.status_code, response.json()["owner"]["name"]])
from django.contrib.auth import get_user_model
from django.test import Client
browser = Client(SERVER_NAME="127.0.0.1")
browser.force_login(get_user_model().objects.get(username="admin"))
from book.models import Account
from console.demo import DEMO_SLUG
from revorg.models import Workspace
demo = Workspace.objects.get(slug=DEMO_SLUG)
for number, employees in enumerate([250, "1200", "n/a"]):  # white space by size band
    Account.objects.create(workspace=demo, crm_id=f"A{number}", status="orphaned",
                           fields={"country": "ZZ", "employees": employees})
from territories.models import TerritoryPlan
plan = TerritoryPlan.objects.get(workspace=demo, status="active")
pages = ["/", "/members/", "/territories/", "/capacities/", "/allocations/", "/crm/",
         "/api-keys/", "/accounts/", "/coverage/", "/jobs/", "/api/v1/coverage/",
         "/map/", "/api/v1/analytics/map/regions/", "/performance/", "/reports/exceptions/",
         f"/territories/plans/{plan.pk}/compare/", "/queue/", "/reassignments/", "/users/"]
statuses = {page: browser.get(page).status_code for page in pages}
white_space = browser.get("/api/v1/coverage/").json()["white_space"]
statuses["white space rows"] = len([row for row in white_space if row["country"] == "ZZ"])
statuses["demo book white space"] = sorted({row["country"] for row in white_space} - {"ZZ"})
results.append(statuses)
print(json.dumps(results))
"""


def test_demo_allocates_on_sqlite_with_eager_tasks(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"}
    }
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        DJANGO_SETTINGS_MODULE="revorg.settings",
        DEBUG="1",
    )
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-2000:]
    *results, pages = json.loads(result.stdout.strip().splitlines()[-1])
    assert [status for status, _ in results] == [201] * 4
    assert pages.pop("white space rows") == 3, pages  # one row per size band
    assert pages.pop("demo book white space") == ["BR", "JP"]  # the demo book's uncovered
    assert set(pages.values()) == {200}, pages  # every page renders on SQLite too
    # "West — Healthcare" rotates Ada and Ben 3:1 (smooth weighted round robin: any four
    # turns in a row, wherever the demo book's assignments left the rotation).
    assert sorted(owner.split()[0] for _, owner in results) == ["Ada", "Ada", "Ada", "Ben"]
