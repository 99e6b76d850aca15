"""The allocation pages: a decision trace in names (one query per kind of name, however long
the trace), the record's fields as a table, what became of the entry with a link to its
successor, status colours; the unassigned queue and the dashboard count current entries."""

import re

from django.db import connection
from django.test.utils import CaptureQueriesContext

from allocation.models import Allocation
from allocation.services import allocation_reassign
from revorg.services import SYSTEM
from tests.allocation.factories import AllocationFactory
from tests.factories import MemberFactory, TerritoryFactory


def page(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.content[:500]
    return response.content.decode()


def trace_of(workspace, territories, members):
    steps = [
        {"step": "territory", "outcome": "matched", "territory": t.pk, "detail": "priority 5"}
        for t in territories
    ]
    steps += [
        {"step": "eligibility", "outcome": "excluded", "member": m.pk, "detail": "absent"}
        for m in members
    ]
    return steps


def test_the_trace_names_territories_and_members_not_ids(user_client, workspace):
    west = TerritoryFactory(workspace=workspace, name="West Healthcare")
    ada = MemberFactory(workspace=workspace, name="Ada Park")
    entry = AllocationFactory(
        workspace=workspace, decision=trace_of(workspace, [west], [ada]), owner=ada
    )
    body = page(user_client(workspace, role="viewer"), f"/allocations/{entry.pk}/")
    trace = body[body.index('data-testid="trace"') : body.index("</ol>")]
    assert "West Healthcare" in trace and "Ada Park" in trace
    assert f"territory:</span> {west.pk}" not in trace and f"member:</span> {ada.pk}" not in trace
    assert f'href="/territories/{west.pk}/"' in trace and f'href="/members/{ada.pk}/"' in trace


def test_a_longer_trace_costs_no_more_queries(user_client, workspace):
    client = user_client(workspace, role="viewer")

    def queries_for(n):
        territories = [TerritoryFactory(workspace=workspace) for _ in range(n)]
        members = [MemberFactory(workspace=workspace) for _ in range(n)]
        entry = AllocationFactory(
            workspace=workspace, decision=trace_of(workspace, territories, members)
        )
        client.get(f"/allocations/{entry.pk}/")  # session and zone read once
        with CaptureQueriesContext(connection) as captured:
            body = page(client, f"/allocations/{entry.pk}/")
        assert all(t.name in body for t in territories) and all(m.name in body for m in members)
        return len(captured)

    assert queries_for(1) == queries_for(12)


def test_the_record_fields_are_a_table(user_client, workspace):
    entry = AllocationFactory(
        workspace=workspace,
        record_fields={"country": "US", "languages": ["fr", "en"], "employees": 620},
    )
    body = page(user_client(workspace, role="viewer"), f"/allocations/{entry.pk}/")
    fields = body[body.index('data-testid="fields"') :]
    rows = re.findall(r"<tr><td><code>(\w+)</code></td><td>([^<]*)</td></tr>", fields)
    assert rows == [("country", "US"), ("employees", "620"), ("languages", "fr, en")]


def test_a_reassigned_entry_says_so_and_links_its_successor(user_client, workspace):
    entry = AllocationFactory(workspace=workspace, record_id="00QX")
    new = allocation_reassign(
        workspace=workspace,
        actor=SYSTEM,
        allocation=entry,
        owner=MemberFactory(workspace=workspace, name="Nia New"),
        reason="swap",
    )
    client = user_client(workspace, role="viewer")
    old_page = page(client, f"/allocations/{entry.pk}/")
    assert 'data-testid="state">reassigned<' in old_page
    assert f'<a href="/allocations/{new.pk}/">#{new.pk}</a>' in old_page
    new_page = page(client, f"/allocations/{new.pk}/")
    assert 'data-testid="state">current<' in new_page and 'data-testid="successor"' not in new_page
    assert f'href="/allocations/{entry.pk}/">#{entry.pk}</a>' in new_page  # reassigned from
    trace = new_page[new_page.index('data-testid="trace"') : new_page.index("</ol>")]
    assert f"reassigned from {entry.owner.name}: swap" in trace and "Nia New" in trace


def test_an_entry_allocated_again_is_superseded(user_client, workspace):
    old = AllocationFactory(workspace=workspace, record_id="00QS", is_current=False)
    new = AllocationFactory(workspace=workspace, record_id="00QS")
    body = page(user_client(workspace, role="viewer"), f"/allocations/{old.pk}/")
    assert 'data-testid="state">superseded<' in body
    assert f'<a href="/allocations/{new.pk}/">#{new.pk}</a>' in body


def test_status_colours(user_client, workspace):
    client = user_client(workspace, role="viewer")
    expected = {"assigned": "ok", "fallback": "warn", "unassigned": "bad"}
    for status, colour in expected.items():
        entry = AllocationFactory(workspace=workspace, status=status)
        body = page(client, f"/allocations/{entry.pk}/")
        assert f'<span class="badge {colour}" data-testid="status">{status}</span>' in body


def test_the_queue_and_the_dashboard_count_only_current_entries(user_client, workspace):
    waiting = AllocationFactory(workspace=workspace, owner=None, status="unassigned")
    taken = AllocationFactory(workspace=workspace, owner=None, status="unassigned")
    client = user_client(workspace, role="viewer")  # reads the whole workspace
    assert 'data-testid="unassigned">2<' in page(client, "/")
    allocation_reassign(
        workspace=workspace,
        actor=SYSTEM,
        allocation=taken,
        owner=MemberFactory(workspace=workspace),
        reason="picked up",
    )
    assert 'data-testid="unassigned">1<' in page(client, "/")
    queue = page(client, "/allocations/?status=unassigned&current=yes")
    assert "Unassigned queue" in queue
    listed = {int(pk) for pk in re.findall(r'href="/allocations/(\d+)/">\1<', queue)}
    assert listed == {waiting.pk}
    history = page(client, "/allocations/?status=unassigned")
    listed = {int(pk) for pk in re.findall(r'href="/allocations/(\d+)/">\1<', history)}
    assert listed == {waiting.pk, taken.pk}
    assert Allocation.objects.filter(workspace=workspace, is_current=True).count() == 2


def test_the_history_shows_each_replaced_entry_state_in_one_query(user_client, workspace):
    client = user_client(workspace, role="viewer")
    client.get("/allocations/")

    def queries():
        with CaptureQueriesContext(connection) as captured:
            body = page(client, "/allocations/")
        return len(captured), body

    AllocationFactory(workspace=workspace, record_id="one", is_current=False)
    AllocationFactory(workspace=workspace, record_id="one")
    few, body = queries()
    assert "superseded" in body
    for n in range(20):
        AllocationFactory(workspace=workspace, record_id=f"r{n}", is_current=False)
        AllocationFactory(workspace=workspace, record_id=f"r{n}")
    assert queries()[0] == few
