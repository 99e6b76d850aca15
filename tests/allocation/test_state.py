"""Reading an entry says what became of it (API.md): `state` current / superseded /
reassigned and `successor`, the id that replaced it; a list reads them without a query per
row; `is_current=true` with `status=unassigned` is the unassigned queue."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.allocation.factories import AllocationFactory
from tests.factories import MemberFactory, TerritoryFactory, TerritorySlotFactory

URL = "/api/v1/allocations/"


def read(client, entry_id):
    response = client.get(f"{URL}{entry_id}/")
    assert response.status_code == 200, response.content
    return response.json()


def reassign(client, entry_id, member):
    response = client.post(
        f"{URL}{entry_id}/reassign/", {"member": member.pk, "reason": "swap"}, format="json"
    )
    assert response.status_code == 201, response.content
    return response.json()


def test_a_new_entry_is_current_with_no_successor(api, workspace):
    TerritorySlotFactory(territory=TerritoryFactory(workspace=workspace))
    made = api.post(URL, {"record": {"type": "lead", "id": "00Q1"}}, format="json").json()
    assert (made["state"], made["successor"]) == ("current", None)
    assert (read(api, made["id"])["state"], read(api, made["id"])["successor"]) == (
        "current",
        None,
    )


def test_a_reassigned_entry_names_the_reassignment_that_replaced_it(api, workspace):
    entry = AllocationFactory(workspace=workspace, record_id="00Q2")
    new = reassign(api, entry.pk, MemberFactory(workspace=workspace))
    old = read(api, entry.pk)
    assert (old["state"], old["successor"]) == ("reassigned", new["id"])
    assert (new["state"], new["successor"]) == ("current", None)


def test_an_entry_allocated_again_is_superseded_by_the_next_entry_of_its_record(api, workspace):
    TerritorySlotFactory(territory=TerritoryFactory(workspace=workspace))
    body = {"record": {"type": "lead", "id": "00Q3"}}
    first, second, third = (api.post(URL, body, format="json").json() for _ in range(3))
    assert (read(api, first["id"])["state"], read(api, first["id"])["successor"]) == (
        "superseded",
        second["id"],
    )
    assert read(api, second["id"])["successor"] == third["id"]
    assert read(api, third["id"])["state"] == "current"


def test_a_record_without_id_follows_its_reassignments(api, workspace):
    entry = AllocationFactory(workspace=workspace, record_id="")
    second = reassign(api, entry.pk, MemberFactory(workspace=workspace))
    third = reassign(api, second["id"], MemberFactory(workspace=workspace))
    states = {row["id"]: (row["state"], row["successor"]) for row in api.get(URL).json()["results"]}
    assert states == {
        entry.pk: ("reassigned", second["id"]),
        second["id"]: ("reassigned", third["id"]),
        third["id"]: ("current", None),
    }


def test_the_history_reads_states_in_as_many_queries_for_50_rows_as_for_5(api, workspace):
    def history_queries():
        with CaptureQueriesContext(connection) as captured:
            response = api.get(URL, {"page_size": 50})
        assert response.status_code == 200
        return len(captured), response.json()["results"]

    for n in range(5):
        AllocationFactory(workspace=workspace, record_id=f"few-{n}", is_current=False)
    history_queries()  # the key's first use of the minute also stamps last_used_at
    few_queries, few = history_queries()
    assert len(few) == 5
    for n in range(45):
        entry = AllocationFactory(workspace=workspace, record_id=f"many-{n}")
        reassign(api, entry.pk, MemberFactory(workspace=workspace))
    many_queries, many = history_queries()
    assert len(many) == 50 and {row["state"] for row in many} == {"current", "reassigned"}
    assert many_queries == few_queries


def test_the_unassigned_queue_is_the_current_unassigned_entries(api, workspace):
    waiting = AllocationFactory(workspace=workspace, owner=None, status="unassigned")
    taken = AllocationFactory(workspace=workspace, owner=None, status="unassigned")
    reassign(api, taken.pk, MemberFactory(workspace=workspace))
    response = api.get(URL, {"status": "unassigned", "is_current": "true"})
    assert [row["id"] for row in response.json()["results"]] == [waiting.pk]
    everything = api.get(URL, {"status": "unassigned"}).json()["results"]
    assert {row["id"] for row in everything} == {waiting.pk, taken.pk}


def test_a_bad_is_current_value_is_400_naming_the_field(api):
    response = api.get(URL, {"is_current": "maybe"})
    assert response.status_code == 400
    assert "is_current" in response.json()
