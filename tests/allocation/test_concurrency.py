"""200 allocations from 16 parallel clients through the real HTTP stack — Django's
live_server (threads) and gunicorn with 4 worker processes — against Postgres: capacities
are never exceeded and strict rotation stays within ⌊N/k⌋..⌈N/k⌉. Parallel reassignments
(and allocations racing them) leave every record exactly one current owner."""

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

import pytest
from django.db import connection

from allocation.models import Allocation
from tests.allocation.factories import AllocationFactory
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


def _request(url: str, key: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def _all_at_once(calls) -> list:
    """Runs the calls in parallel threads released together by a barrier."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


ROUNDS = 30


@pytest.mark.django_db(transaction=True)
def test_concurrent_reassignments_leave_one_current_owner(gunicorn_url):
    """Each round six clients reassign the same entry, each to another rep: one wins (201),
    the others get 409 naming the winner, and the record has exactly one current entry."""
    workspace = WorkspaceFactory()
    reps = MemberFactory.create_batch(6, workspace=workspace)
    key = api_key_for(workspace)
    for round_ in range(ROUNDS):
        record_id = f"00Q{round_}"
        entry = AllocationFactory(workspace=workspace, record_id=record_id)
        url = f"{gunicorn_url}/api/v1/allocations/{entry.pk}/reassign/"
        results = _all_at_once(
            [partial(_request, url, key, {"member": rep.pk, "reason": "race"}) for rep in reps]
        )
        statuses = sorted(status for status, _ in results)
        assert statuses == [201] + [409] * 5, results
        winner = next(body["id"] for status, body in results if status == 201)
        assert {body["current"] for status, body in results if status == 409} == {winner}
        current = Allocation.objects.filter(
            workspace=workspace, record_id=record_id, is_current=True
        )
        assert list(current.values_list("pk", flat=True)) == [winner]


@pytest.mark.django_db(transaction=True)
def test_concurrent_reassignments_of_a_record_without_id_follow_its_chain(gunicorn_url):
    workspace = WorkspaceFactory()
    reps = MemberFactory.create_batch(4, workspace=workspace)
    key = api_key_for(workspace)
    for _ in range(10):
        entry = AllocationFactory(workspace=workspace, record_id="")
        url = f"{gunicorn_url}/api/v1/allocations/{entry.pk}/reassign/"
        results = _all_at_once(
            [partial(_request, url, key, {"member": rep.pk, "reason": "race"}) for rep in reps]
        )
        assert sorted(status for status, _ in results) == [201, 409, 409, 409], results
        winner = next(body["id"] for status, body in results if status == 201)
        assert {body["current"] for status, body in results if status == 409} == {winner}
        chain = Allocation.objects.filter(pk=entry.pk) | Allocation.objects.filter(
            reassigned_from=entry
        )
        assert list(chain.filter(is_current=True).values_list("pk", flat=True)) == [winner]


@pytest.mark.django_db(transaction=True)
def test_allocating_a_record_while_it_is_reassigned_leaves_one_current_owner(gunicorn_url):
    """Allocations of one record id (its fields changed: they route to two territories with
    their own reps, so no territory or member lock is shared) race reassignments of its
    current entry: whatever order they commit in, the record has exactly one current entry."""
    workspace = WorkspaceFactory()
    for country in ("US", "FR"):
        territory = TerritoryFactory(
            workspace=workspace, rule={"field": "country", "op": "eq", "value": country}
        )
        for member in MemberFactory.create_batch(2, workspace=workspace):
            TerritorySlotFactory(territory=territory, member=member)
    others = MemberFactory.create_batch(3, workspace=workspace)
    key = api_key_for(workspace)
    allocate_url = f"{gunicorn_url}/api/v1/allocations/"
    for round_ in range(ROUNDS):
        record_id = f"00R{round_}"

        def record(country, record_id=record_id):
            return {"record": {"type": "lead", "id": record_id, "fields": {"country": country}}}

        status, entry = _request(allocate_url, key, record("US"))
        assert status == 201
        reassign_url = f"{allocate_url}{entry['id']}/reassign/"
        calls = [partial(_request, allocate_url, key, record(c)) for c in ("US", "FR") * 2] + [
            partial(_request, reassign_url, key, {"member": rep.pk, "reason": "race"})
            for rep in others
        ]
        results = _all_at_once(calls)
        assert [status for status, _ in results[:4]] == [201] * 4, results
        assert {status for status, _ in results[4:]} <= {201, 409}, results
        assert sum(status == 201 for status, _ in results[4:]) <= 1, results
        current = Allocation.objects.filter(
            workspace=workspace, record_id=record_id, is_current=True
        )
        assert current.count() == 1, list(current.values("id", "owner_id", "reassigned_from"))


@pytest.mark.django_db(transaction=True)
def test_concurrent_reassignments_to_one_rep_never_exceed_its_capacity(gunicorn_url):
    """Eight different records reassigned at once to a rep with room for two: two succeed,
    the others are refused (400 naming the member and the capacity)."""
    workspace = WorkspaceFactory()
    rep = MemberFactory(workspace=workspace)
    CapacityFactory(member=rep, limit=2)
    key = api_key_for(workspace)
    for _ in range(5):
        Allocation.objects.filter(owner=rep).update(is_current=False)  # room again
        entries = AllocationFactory.create_batch(8, workspace=workspace)
        results = _all_at_once(
            [
                partial(
                    _request,
                    f"{gunicorn_url}/api/v1/allocations/{entry.pk}/reassign/",
                    key,
                    {"member": rep.pk, "reason": "race"},
                )
                for entry in entries
            ]
        )
        assert sorted(status for status, _ in results) == [201] * 2 + [400] * 6, results
        refusals = [body["member"][0] for status, body in results if status == 400]
        assert all("day capacity 2/2" in message for message in refusals)
        assert Allocation.objects.filter(owner=rep, is_current=True).count() == 2
