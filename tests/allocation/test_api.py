"""POST /api/v1/allocations/ and the history, against Postgres."""

import pytest

from allocation.models import Allocation, IdempotencyRecord, RotationState
from crm_sync.models import WritebackOutbox
from tests.capacities.factories import CapacityFactory
from tests.factories import AbsenceFactory, MemberFactory, TerritoryFactory, TerritorySlotFactory

URL = "/api/v1/allocations/"


def lead(**fields):
    return {"record": {"type": "lead", "fields": fields}}


@pytest.fixture
def reps(workspace):
    territory = TerritoryFactory(workspace=workspace, name="Everywhere")
    members = [MemberFactory(workspace=workspace, name=f"Rep {i}") for i in range(3)]
    for member in members:
        TerritorySlotFactory(territory=territory, member=member)
    return territory, members


def test_round_robin_in_slot_order_through_the_api(api, reps):
    territory, members = reps
    owners = [api.post(URL, lead(), format="json").json()["owner"]["id"] for _ in range(6)]
    assert owners == [m.pk for m in members] * 2
    body = api.get(URL).json()
    assert len(body["results"]) == 6
    assert body["results"][0]["territory"] == {"id": territory.pk, "name": "Everywhere"}


def test_weighted_rotation_state_carries_across_requests(api, workspace):
    territory = TerritoryFactory(workspace=workspace, distribution="weighted")
    heavy, light = MemberFactory(workspace=workspace), MemberFactory(workspace=workspace)
    TerritorySlotFactory(territory=territory, member=heavy, weight=3)
    TerritorySlotFactory(territory=territory, member=light, weight=1)
    owners = [api.post(URL, lead(), format="json").json()["owner"]["id"] for _ in range(8)]
    assert owners.count(heavy.pk) == 6 and owners.count(light.pk) == 2
    assert owners[:4] == owners[4:]  # smooth weighted round-robin repeats each cycle


def test_response_shape_and_trace(api, reps):
    response = api.post(
        URL,
        {**lead(country="US"), "play_run": {"id": "run_1", "url": "https://p.example/1"}},
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "assigned"
    assert body["writeback"] == {"status": "none", "attempts": 0, "last_error": None}
    assert [s["step"] for s in body["decision"]][-1] == "distribution"
    assert api.get(f"{URL}{body['id']}/").json()["decision"] == body["decision"]


def test_capacity_is_never_exceeded_and_frees_on_reassign(api, workspace):
    territory = TerritoryFactory(workspace=workspace)
    rep = MemberFactory(workspace=workspace)
    TerritorySlotFactory(territory=territory, member=rep)
    CapacityFactory(member=rep, limit=2)
    results = [api.post(URL, lead(), format="json").json() for _ in range(3)]
    assert [r["status"] for r in results] == ["assigned", "assigned", "unassigned"]
    assert "day capacity 2/2" in results[2]["decision"][-2]["detail"]
    other = MemberFactory(workspace=workspace)
    response = api.post(
        f"{URL}{results[0]['id']}/reassign/", {"member": other.pk, "reason": "swap"}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["reassigned_from"] == results[0]["id"]
    assert api.post(URL, lead(), format="json").json()["owner"]["id"] == rep.pk


def test_reassign_without_reason_is_400(api, reps):
    allocation = api.post(URL, lead(), format="json").json()
    response = api.post(
        f"{URL}{allocation['id']}/reassign/", {"member": reps[1][0].pk}, format="json"
    )
    assert response.status_code == 400
    assert "reason" in response.json()


def test_absent_primaries_fall_to_backup(api, workspace):
    territory = TerritoryFactory(workspace=workspace)
    primary, backup = MemberFactory(workspace=workspace), MemberFactory(workspace=workspace)
    TerritorySlotFactory(territory=territory, member=primary)
    TerritorySlotFactory(territory=territory, member=backup, role="backup")
    assert api.post(URL, lead(), format="json").json()["owner"]["id"] == primary.pk
    AbsenceFactory(member=primary, starts_at="2000-01-01T00:00:00Z")
    assert api.post(URL, lead(), format="json").json()["owner"]["id"] == backup.pk


def test_idempotent_replay_moves_no_pointer_and_uses_no_capacity(api, reps):
    body = {**lead(), "idempotency_key": "run:1"}
    first = api.post(URL, body, format="json")
    replay = api.post(URL, body, format="json")
    assert (first.status_code, replay.status_code) == (201, 200)
    assert replay.json() == first.json()
    assert Allocation.objects.count() == 1
    assert api.post(URL, lead(), format="json").json()["owner"]["id"] == reps[1][1].pk
    conflict = api.post(URL, {**lead(country="FR"), "idempotency_key": "run:1"}, format="json")
    assert conflict.status_code == 409
    header = api.post(URL, lead(), format="json", HTTP_IDEMPOTENCY_KEY="run:1")
    assert header.status_code == 200


def test_dry_run_leaves_every_table_as_it_was(api, reps):
    api.post(URL, lead(), format="json")
    before = (
        Allocation.objects.count(),
        list(RotationState.objects.values()),
        IdempotencyRecord.objects.count(),
    )
    response = api.post(URL, {**lead(), "dry_run": True, "idempotency_key": "k"}, format="json")
    assert response.status_code == 200
    assert response.json()["dry_run"] is True
    assert response.json()["owner"]["id"] == reps[1][1].pk
    after = (
        Allocation.objects.count(),
        list(RotationState.objects.values()),
        IdempotencyRecord.objects.count(),
    )
    assert after == before


def test_writeback_is_queued_in_the_same_transaction(api, workspace):
    territory = TerritoryFactory(workspace=workspace)
    rep = MemberFactory(workspace=workspace, crm_provider="salesforce", crm_user_id="005X")
    TerritorySlotFactory(territory=territory, member=rep)
    body = {"record": {"type": "lead", "id": "00Q1", "crm": "salesforce", "fields": {}}}
    response = api.post(URL, body, format="json").json()
    assert response["writeback"]["status"] == "pending"
    outbox = WritebackOutbox.objects.get()
    assert (outbox.record_id, outbox.owner_crm_user_id) == ("00Q1", "005X")


def test_workspace_default_member_then_unassigned_queue(api, workspace):
    response = api.post(URL, lead(), format="json").json()
    assert response["status"] == "unassigned"
    default = MemberFactory(workspace=workspace)
    workspace.default_member = default
    workspace.save()
    response = api.post(URL, lead(), format="json").json()
    assert (response["status"], response["owner"]["id"]) == ("fallback", default.pk)
    queue = api.get(URL, {"status": "unassigned"}).json()["results"]
    assert len(queue) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"record": {"type": "tweet"}}, "record"),
        ({"record": "lead"}, "record"),
        ({"record": {"type": "lead", "fields": []}}, "record"),
        ({"record": {"type": "lead", "fields": {"a": {"b": 1}}}}, "record.fields.a"),
        ({"record": {"type": "lead", "fields": {"a": [[1]]}}}, "record.fields.a"),
        ({"record": {"type": "lead", "fields": {"n": 2**70}}}, "record.fields.n"),
        ({**lead(), "idempotency_key": "x" * 256}, "idempotency_key"),
        ({**lead(), "dry_run": "maybe"}, "dry_run"),
        ({**lead(), "play_run": {"url": "not a url"}}, "play_run"),
        ({**lead(), "surprise": 1}, "surprise"),
    ],
)
def test_garbage_is_400_and_leaves_no_row(api, reps, body, field):
    response = api.post(URL, body, format="json")
    assert response.status_code == 400
    assert field in str(response.json())
    assert Allocation.objects.count() == 0


def test_huge_float_and_non_object_bodies_are_400(api, reps):
    raw = '{"record": {"type": "lead", "fields": {"n": 1e400}}}'
    assert api.post(URL, raw, content_type="application/json").status_code == 400
    assert api.post(URL, "[1, 2]", content_type="application/json").status_code == 400
    assert Allocation.objects.count() == 0


def test_hot_path_query_count(api, reps, django_assert_max_num_queries):
    """Key with its workspace, plan, the territory and member locks, the pool with absences,
    capacities and rotation pointers, usage, and one statement for the writes (previous
    entry, history row, pointer): six queries."""
    for member in reps[1]:
        CapacityFactory(member=member, limit=100)
    api.post(URL, lead(), format="json")
    # + savepoint/release inside the test transaction, + the event routing of
    # `allocation.created` (who listens: webhooks, e-mail recipients)
    with django_assert_max_num_queries(9):
        assert api.post(URL, lead(), format="json").status_code == 201


def test_a_record_id_adds_no_statement(api, reps, django_assert_max_num_queries):
    """The record's lock (serialising it with its reassignments) rides in the statement
    that takes the territory and member locks."""
    body = {"record": {"type": "lead", "id": "00Q1", "fields": {}}}
    api.post(URL, body, format="json")
    with django_assert_max_num_queries(8):
        assert api.post(URL, body, format="json").status_code == 201
    assert Allocation.objects.filter(record_id="00Q1", is_current=True).count() == 1


def test_read_only_key_cannot_allocate(make_client, workspace, reps):
    client = make_client(workspace, scopes="read")
    assert client.post(URL, lead(), format="json").status_code == 403


# A body the hand-checked path accepts as given, and one it leaves to AllocateSerializer
# (a numeric record id, which the serializer turns into a string).
BODY_PATHS = {
    "hand-checked": {"record": {"type": "lead", "id": "00Q1", "fields": {}}},
    "serializer": {"record": {"type": "lead", "id": 1, "fields": {}}},
}


@pytest.mark.parametrize("path", BODY_PATHS)
@pytest.mark.parametrize(
    "url",
    [
        "https://x/run/7",
        "http://n8n:5678/run/7",
        "http://10.0.0.7/run/7",
        "https://plays.example.com/runs/8812?tab=log#step-3",
        "HTTPS://[::1]:8443/run/7",
    ],
)
def test_play_run_url_accepts_any_absolute_http_url(api, reps, path, url):
    body = {**BODY_PATHS[path], "play_run": {"id": "run_7", "url": url}}
    response = api.post(URL, body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["play_run"] == {"id": "run_7", "url": url}
    assert Allocation.objects.get().play_run_url == url


@pytest.mark.parametrize("path", BODY_PATHS)
@pytest.mark.parametrize(
    "url",
    [
        "ftp://files.example/run/7",
        "javascript:alert(1)",
        "mailto:ops@example.com",
        "n8n:5678/run/7",
        "https://",
        "https:///run/7",
        "https://exa mple.com/run/7",
        "https://example.com/run\t7",
        "http://n8n:port/run/7",
        "https://example.com/" + "r" * 2000,
    ],
)
def test_play_run_url_refuses_other_schemes_and_malformed_urls(api, reps, path, url):
    body = {**BODY_PATHS[path], "play_run": {"url": url}}
    response = api.post(URL, body, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["play_run"]
    assert list(response.json()["play_run"]) == ["url"]
    assert Allocation.objects.count() == 0
