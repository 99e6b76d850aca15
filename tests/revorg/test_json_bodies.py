"""Hostile JSON bodies: nesting a thousand levels deep is a 400 naming the problem on every
JSON endpoint (API keys and the browser session alike), and nothing is written."""

import pytest

from allocation.models import Allocation
from members.models import Member
from revorg.models import AuditEntry
from territories.models import Territory
from tests.factories import MemberFactory, TerritoryFactory, TerritorySlotFactory, active_plan

DEPTH = 1000


def nested(depth: int, leaf: str = "1") -> str:
    """`[[[...1...]]]` as raw text: json.dumps itself would recurse to build it."""
    return "[" * depth + leaf + "]" * depth


def nested_object(key: str, depth: int) -> str:
    return f'{{"{key}": ' + nested(depth) + "}"


def assert_depth_refused(response):
    assert response.status_code == 400, response.content[:300]
    body = response.json()
    assert "nested" in body["detail"].lower()


@pytest.fixture
def assignable(workspace):
    territory = TerritoryFactory(workspace=workspace)
    TerritorySlotFactory(territory=territory)
    return territory


@pytest.mark.parametrize(
    "body",
    [
        nested(DEPTH),
        '{"record": {"type": "lead", "fields": {"x": ' + nested(DEPTH) + "}}}",
        '{"record": {"type": "lead"}, "play_run": ' + '{"a": ' * DEPTH + "1" + "}" * DEPTH + "}",
        nested(DEPTH * 50),
    ],
    ids=["bare-list", "in-fields", "objects-in-play-run", "fifty-thousand-deep"],
)
def test_allocate_refuses_deep_nesting_and_allocates_nothing(api, assignable, body):
    response = api.post("/api/v1/allocations/", body, content_type="application/json")
    assert_depth_refused(response)
    assert not Allocation.objects.exists()


def test_member_create_refuses_deep_metadata(api, workspace):
    body = '{"name": "Deep", "email": "deep@example.com", "metadata": ' + nested(DEPTH) + "}"
    response = api.post("/api/v1/members/", body, content_type="application/json")
    assert_depth_refused(response)
    assert not Member.objects.filter(name="Deep").exists()


def test_member_patch_refuses_deep_metadata(api, workspace):
    member = MemberFactory(workspace=workspace, name="Kept")
    response = api.patch(
        f"/api/v1/members/{member.pk}/",
        nested_object("metadata", DEPTH),
        content_type="application/json",
    )
    assert_depth_refused(response)
    member.refresh_from_db()
    assert member.metadata == {"languages": ["en"]}


def test_territory_match_refuses_deep_record(api, workspace):
    body = '{"record": {"type": "lead", "fields": ' + nested(DEPTH) + "}}"
    response = api.post("/api/v1/territories/match/", body, content_type="application/json")
    assert_depth_refused(response)


def test_territory_builder_save_in_the_browser_session_refuses_deep_rule(user_client, workspace):
    """The builder saves through the territories API with the admin's session."""
    client = user_client(workspace, role="admin")
    plan = active_plan(workspace)
    body = f'{{"plan": {plan.pk}, "name": "Deep", "rule": ' + nested_object("all", DEPTH) + "}"
    response = client.post("/api/v1/territories/", body, content_type="application/json")
    assert_depth_refused(response)
    assert not Territory.objects.filter(name="Deep").exists()
    assert not AuditEntry.objects.filter(workspace=workspace).exists()


def test_reasonable_nesting_still_parses(api, workspace):
    """A territory rule nested to the rules' own limit is well within the parser's bound."""
    plan = active_plan(workspace)
    rule = {"field": "country", "op": "eq", "value": "US"}
    for _ in range(9):
        rule = {"all": [rule]}
    response = api.post(
        "/api/v1/territories/", {"plan": plan.pk, "name": "Nested", "rule": rule}, format="json"
    )
    assert response.status_code == 201, response.json()
