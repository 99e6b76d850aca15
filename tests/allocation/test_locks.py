"""The advisory locks of routing state (allocation/locks.py), on Postgres with real parallel
connections: a book chunk too large for territory keys takes the workspace's book lock
exclusively, so an allocation — which holds it shared with its territory keys — waits for
the chunk to commit, and a chunk waits for allocations in flight."""

import threading

import pytest
from django.db import connection, transaction

from allocation.book_entries import book_locks_take
from allocation.models import Allocation
from allocation.services import allocation_create
from revorg.services import SYSTEM
from tests.book.helpers import us_territory
from tests.factories import WorkspaceFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _in_thread(target) -> threading.Thread:
    def run():
        try:
            target()
        finally:
            connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def _hold(lock, held: threading.Event, release: threading.Event):
    def run():
        with transaction.atomic():
            lock()
            held.set()
            release.wait(10)

    return run


def _allocate(workspace):
    def run():
        allocation_create(
            workspace=workspace, actor=SYSTEM, record={"type": "lead", "fields": {"country": "US"}}
        )

    return run


def test_an_allocation_waits_while_a_book_chunk_holds_the_whole_book():
    workspace = WorkspaceFactory()
    us_territory(workspace, reps=2)
    held, release = threading.Event(), threading.Event()
    chunk = _in_thread(
        _hold(lambda: book_locks_take(workspace_id=workspace.pk, whole=True), held, release)
    )
    assert held.wait(5)

    allocation = _in_thread(_allocate(workspace))
    allocation.join(1.0)
    assert allocation.is_alive(), "the allocation went ahead while the book was locked"
    assert not Allocation.objects.filter(workspace=workspace).exists()

    release.set()
    chunk.join(5)
    allocation.join(10)
    assert not allocation.is_alive()
    assert Allocation.objects.filter(workspace=workspace, status="assigned").count() == 1


def test_a_whole_book_chunk_waits_for_writers_holding_territory_keys():
    workspace = WorkspaceFactory()
    territory, reps = us_territory(workspace, reps=2)
    held, release = threading.Event(), threading.Event()
    writer = _in_thread(
        _hold(
            lambda: book_locks_take(
                workspace_id=workspace.pk,
                territory_ids=[territory.pk],
                member_ids=[r.pk for r in reps],
            ),
            held,
            release,
        )
    )
    assert held.wait(5)

    whole_held, whole_release = threading.Event(), threading.Event()
    chunk = _in_thread(
        _hold(
            lambda: book_locks_take(workspace_id=workspace.pk, whole=True),
            whole_held,
            whole_release,
        )
    )
    assert not whole_held.wait(1.0), "the whole-book lock was granted beside a territory lock"

    release.set()
    writer.join(5)
    assert whole_held.wait(5)
    whole_release.set()
    chunk.join(5)


def test_writers_of_different_territories_hold_their_keys_at_once():
    workspace = WorkspaceFactory()
    east, east_reps = us_territory(workspace, reps=1, name="East")
    west, west_reps = us_territory(workspace, reps=1, name="West")
    events = []
    threads = []
    release = threading.Event()
    for territory, reps in ((east, east_reps), (west, west_reps)):
        held = threading.Event()
        events.append(held)
        threads.append(
            _in_thread(
                _hold(
                    lambda t=territory, r=reps: book_locks_take(
                        workspace_id=workspace.pk, territory_ids=[t.pk], member_ids=[r[0].pk]
                    ),
                    held,
                    release,
                )
            )
        )
    assert all(held.wait(5) for held in events), "two territories' writers excluded each other"
    release.set()
    for thread in threads:
        thread.join(5)
