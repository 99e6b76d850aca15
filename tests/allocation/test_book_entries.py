"""The book's history writes (allocation/book_entries.py): one current entry per record,
and superseding a book entry leaves the history's indexes alone."""

import pytest
from django.db import connection
from django.utils import timezone

from allocation.book_entries import AccountEntry, account_entries_write
from allocation.models import Allocation
from tests.allocation.factories import AllocationFactory
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


def entry(owner) -> AccountEntry:
    return AccountEntry(
        record_id="001A",
        record_crm="salesforce",
        status="assigned",
        owner_id=owner.pk,
        territory_id=None,
        fields={"country": "US"},
        decision=[{"step": "distribution", "member": owner.pk, "outcome": "chosen"}],
        overlays=[],
    )


def history_updates() -> tuple[int, int]:
    """(updates, of which HOT) of the history in this transaction."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables WHERE relname = %s",
            [Allocation._meta.db_table],
        )
        return cursor.fetchone()


def test_superseding_a_book_entry_is_an_update_in_place(workspace):
    """The capacity index names `routing_current`, not `is_current`, and the table keeps
    free space per page: flipping `is_current` of a book entry changes no indexed value, so
    Postgres rewrites no index (a HOT update) — the cost of 10,000 changed accounts."""
    first, second = MemberFactory(workspace=workspace), MemberFactory(workspace=workspace)
    account_entries_write(
        workspace_id=workspace.pk, actor_label="job 1", entries=[entry(first)], now=timezone.now()
    )
    before = history_updates()

    account_entries_write(
        workspace_id=workspace.pk, actor_label="job 2", entries=[entry(second)], now=timezone.now()
    )

    updates, hot = (now - then for now, then in zip(history_updates(), before, strict=True))
    assert (updates, hot) == (1, 1)
    rows = Allocation.objects.filter(record_id="001A").order_by("id")
    assert [(r.owner_id, r.is_current, r.routing_current) for r in rows] == [
        (first.pk, False, False),
        (second.pk, True, False),
    ]


def test_routing_current_is_what_routing_capacities_count(workspace):
    """Current entries of plays' allocations count; superseded ones and book entries do not."""
    routed = AllocationFactory(workspace=workspace)
    superseded = AllocationFactory(workspace=workspace, is_current=False)
    book = AllocationFactory(workspace=workspace, record_type="account", is_book=True)

    flags = dict(Allocation.objects.values_list("id", "routing_current"))

    assert flags == {routed.pk: True, superseded.pk: False, book.pk: False}


def test_what_the_history_copy_writes_reads_back_exactly(workspace):
    """The COPY lines are built by hand: tabs, newlines, backslashes and quotes in CRM ids,
    fields and traces arrive as they were sent."""
    owner = MemberFactory(workspace=workspace)
    awkward = 'a\tb\nc\\d"e\r'
    written = AccountEntry(
        record_id=f"001{awkward}",
        record_crm="hubspot",
        status="fallback",
        owner_id=owner.pk,
        territory_id=None,
        fields={"name": awkward, "nested": {"quote": '"\\N', "n": 3}, "empty": ""},
        decision=[{"step": "vacant", "detail": f"kept\\{awkward}", "member": owner.pk}],
        overlays=[7, 8],
    )
    now = timezone.now()

    account_entries_write(
        workspace_id=workspace.pk, actor_label="job\t\\ 1", entries=[written], now=now
    )

    row = Allocation.objects.get(workspace=workspace)
    assert (row.record_id, row.record_crm, row.status) == (f"001{awkward}", "hubspot", "fallback")
    assert (row.owner_id, row.territory_id) == (owner.pk, None)
    assert (row.record_fields, row.decision, row.overlays) == (
        written.fields,
        written.decision,
        written.overlays,
    )
    assert (row.actor_label, row.created_at, row.is_current, row.is_book) == (
        "job\t\\ 1",
        now,
        True,
        True,
    )
    assert (row.play_run_id, row.reason) == ("", "")
