"""200 allocations from 16 parallel clients through the real HTTP stack — Django's
live_server (threads) and gunicorn with 4 worker processes — against Postgres: capacities
are never exceeded and strict rotation stays within ⌊N/k⌋..⌈N/k⌉."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.db import connection

from allocation.models import Allocation
from tests.capacities.factories import CapacityFactory
from tests.factories import (
    MemberFactory,
    TerritoryFactory,
    TerritorySlotFactory,
    WorkspaceFactory,
    api_key_for,
)

N, THREADS = 200, 16


def _post_many(url: str, key: str, n: int) -> list[dict]:
    def one(_):
        request = urllib.request.Request(
            url,
            data=json.dumps({"record": {"type": "lead", "fields": {}}}).encode(),
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 201
            return json.loads(response.read())

    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(one, range(n)))


ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def gunicorn_url(transactional_db):
    """gunicorn, 4 sync worker processes with psycopg's pool (as docker-compose runs the web),
    on the test database (committed rows only)."""
    db = connection.settings_dict
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "SECRET_KEY": os.environ.get("SECRET_KEY", "test-only-secret"),
        "API_KEY_THROTTLE_RATE": "100000/min",
        "DATABASE_POOL": "1",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "revorg.wsgi:application", "--workers", "4",
         "--bind", f"127.0.0.1:{port}", "--log-level", "warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                urllib.request.urlopen(f"{url}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture(params=["live_server", "gunicorn"])
def server_url(request):
    """The same scenarios against threads in one process and against several processes."""
    if request.param == "live_server":
        return request.getfixturevalue("live_server").url
    return request.getfixturevalue("gunicorn_url")


@pytest.mark.django_db(transaction=True)
def test_round_robin_stays_fair_under_parallel_requests(server_url):
    workspace = WorkspaceFactory()
    territory = TerritoryFactory(workspace=workspace)
    members = [MemberFactory(workspace=workspace) for _ in range(3)]
    for member in members:
        TerritorySlotFactory(territory=territory, member=member)
    results = _post_many(f"{server_url}/api/v1/allocations/", api_key_for(workspace), N)
    counts = Counter(r["owner"]["id"] for r in results)
    assert set(counts) == {m.pk for m in members}
    assert all(N // 3 <= c <= -(-N // 3) for c in counts.values())
    # Strict: in creation order the owners repeat the slot order exactly.
    ordered = list(Allocation.objects.order_by("id").values_list("owner_id", flat=True))
    assert ordered == [members[i % 3].pk for i in range(N)]


@pytest.mark.django_db(transaction=True)
def test_capacity_never_exceeded_under_parallel_requests(server_url):
    workspace = WorkspaceFactory()
    territory = TerritoryFactory(workspace=workspace)
    members = [MemberFactory(workspace=workspace) for _ in range(4)]
    for member in members:
        TerritorySlotFactory(territory=territory, member=member)
        CapacityFactory(member=member, limit=30)
    results = _post_many(f"{server_url}/api/v1/allocations/", api_key_for(workspace), N)
    owned = Counter(r["owner"]["id"] for r in results if r["owner"])
    assert owned == {m.pk: 30 for m in members}
    assert sum(r["status"] == "unassigned" for r in results) == N - 120


@pytest.mark.django_db(transaction=True)
def test_a_rep_shared_by_two_territories_never_exceeds_capacity(gunicorn_url):
    """Two territories take two different territory locks; the shared rep's capacity still
    holds because capacity is checked under a per-member lock."""
    workspace = WorkspaceFactory()
    shared = MemberFactory(workspace=workspace)
    CapacityFactory(member=shared, limit=25)
    for country in ("US", "FR"):
        territory = TerritoryFactory(
            workspace=workspace, rule={"field": "country", "op": "eq", "value": country}
        )
        TerritorySlotFactory(territory=territory, member=shared)
    key = api_key_for(workspace)

    def one(index):
        body = {"record": {"type": "lead", "fields": {"country": ["US", "FR"][index % 2]}}}
        request = urllib.request.Request(
            f"{gunicorn_url}/api/v1/allocations/",
            data=json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(one, range(100)))
    assert sum(1 for r in results if r["owner"]) == 25
    assert Allocation.objects.filter(owner=shared).count() == 25
