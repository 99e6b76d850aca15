"""Territory plans, territories with slots, account locks and the match endpoint over HTTP."""

import pytest

from revorg.models import AuditEntry
from territories.models import Territory, TerritoryPlan
from tests.factories import (
    MemberFactory,
    TerritoryFactory,
    TerritoryPlanFactory,
    active_plan,
)

TERRITORIES = "/api/v1/territories/"
PLANS = "/api/v1/territory-plans/"
LOCKS = "/api/v1/account-locks/"
MATCH = "/api/v1/territories/match/"
US = {"field": "country", "op": "eq", "value": "US"}


def match(api, **fields):
    response = api.post(MATCH, {"record": {"type": "lead", "fields": fields}}, format="json")
    assert response.status_code == 200, response.json()
    return response.json()


def test_create_territory_with_slots_in_one_request(api, workspace):
    ada, ben = MemberFactory(workspace=workspace), MemberFactory(workspace=workspace)
    payload = {
        "name": "West",
        "kind": "geographic",
        "priority": 10,
        "rule": {"all": [US, {"field": "state", "op": "in", "value": ["CA", "OR"]}]},
        "distribution": "weighted",
        "slots": [
            {"member": ada.pk, "role": "primary", "weight": 3},
            {"member": ben.pk, "role": "backup"},
        ],
    }
    response = api.post(TERRITORIES, payload, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["plan"] == active_plan(workspace).pk
    assert [(s["member"], s["role"], s["weight"], s["position"]) for s in body["slots"]] == [
        (ada.pk, "primary", 3, 0),
        (ben.pk, "backup", 1, 1),
    ]
    assert match(api, country="us", state="ca")["winner"]["id"] == body["id"]


def test_bad_rule_is_400_with_json_pointers_and_nothing_stored(api):
    rule = {"all": [US, {"field": "state", "op": "equals", "value": "CA"}]}
    response = api.post(TERRITORIES, {"name": "X", "rule": rule}, format="json")
    assert response.status_code == 400
    assert response.json()["rule"] == [
        {"path": "/all/1/op", "message": "unknown operator 'equals'"}
    ]
    assert Territory.objects.count() == 0


def test_member_rule_may_reference_the_member(api):
    member_rule = {"field": "language", "op": "in", "value_from": "member.languages"}
    response = api.post(TERRITORIES, {"name": "X", "member_rule": member_rule}, format="json")
    assert response.status_code == 201
    response = api.post(TERRITORIES, {"name": "Y", "rule": member_rule}, format="json")
    assert response.json()["rule"][0]["path"] == "/value_from"


@pytest.mark.parametrize("field", ["parent", "fallback_territory"])
def test_cycles_are_refused(api, workspace, field):
    a = TerritoryFactory(workspace=workspace)
    b = TerritoryFactory(workspace=workspace, **{field: a})
    response = api.patch(f"{TERRITORIES}{a.pk}/", {field: b.pk}, format="json")
    assert response.status_code == 400
    assert "cycle" in response.json()[field][0]


def test_foreign_members_and_parents_are_400(api, workspace, other_workspace):
    foreign_member = MemberFactory(workspace=other_workspace)
    foreign_territory = TerritoryFactory(workspace=other_workspace)
    response = api.post(
        TERRITORIES,
        {"name": "X", "parent": foreign_territory.pk, "slots": [{"member": foreign_member.pk}]},
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()) == {"parent", "slots"}


def test_parent_must_be_in_the_same_plan(api, workspace):
    draft = TerritoryPlanFactory(workspace=workspace)
    parent = TerritoryFactory(workspace=workspace, plan=draft)
    response = api.post(TERRITORIES, {"name": "X", "parent": parent.pk}, format="json")
    assert response.status_code == 400
    assert "same plan" in response.json()["parent"][0]


def test_list_defaults_to_the_active_plan_and_filters(api, workspace):
    draft = TerritoryPlanFactory(workspace=workspace)
    TerritoryFactory(workspace=workspace, name="Active one", kind="industry")
    TerritoryFactory(workspace=workspace, plan=draft, name="Draft one")
    assert [t["name"] for t in api.get(TERRITORIES).json()["results"]] == ["Active one"]
    assert [t["name"] for t in api.get(f"{TERRITORIES}?plan={draft.pk}").json()["results"]] == [
        "Draft one"
    ]
    assert api.get(f"{TERRITORIES}?kind=geographic").json()["count"] == 0
    assert api.get(f"{TERRITORIES}?search=active").json()["count"] == 1


def test_activation_archives_the_old_plan_and_matching_switches_at_once(api, workspace):
    old = active_plan(workspace)
    TerritoryFactory(workspace=workspace, plan=old, name="Old", rule=US)
    assert match(api, country="US")["winner"]["name"] == "Old"

    new = api.post(f"{PLANS}{old.pk}/clone/", {"name": "FY27"}, format="json").json()
    assert new["status"] == "draft"
    clone_territory = Territory.objects.get(plan_id=new["id"])
    api.patch(f"{TERRITORIES}{clone_territory.pk}/", {"name": "New"}, format="json")
    assert match(api, country="US")["winner"]["name"] == "Old"

    response = api.post(f"{PLANS}{new['id']}/activate/", format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "active"
    assert TerritoryPlan.objects.get(pk=old.pk).status == "archived"
    assert match(api, country="US")["winner"]["name"] == "New"


def test_future_activation_schedules_and_reactivating_archived_is_refused(api, workspace):
    """(Scheduled activation in full: tests/transitions.)"""
    draft = TerritoryPlanFactory(workspace=workspace)
    response = api.post(
        f"{PLANS}{draft.pk}/activate/", {"effective_at": "2999-01-01T00:00:00Z"}, format="json"
    )
    assert response.status_code == 202
    assert response.json()["status"] == "scheduled"
    assert api.delete(f"{PLANS}{draft.pk}/schedule/").json()["status"] == "draft"
    old = active_plan(workspace)
    api.post(f"{PLANS}{draft.pk}/activate/", format="json")
    assert api.post(f"{PLANS}{old.pk}/activate/", format="json").status_code == 400
    assert api.delete(f"{PLANS}{draft.pk}/").status_code == 400


def test_clone_copies_hierarchy_slots_and_fallbacks(api, workspace):
    plan = active_plan(workspace)
    member = MemberFactory(workspace=workspace)
    parent = TerritoryFactory(workspace=workspace, plan=plan, name="Parent")
    child = TerritoryFactory(
        workspace=workspace, plan=plan, name="Child", parent=parent, fallback_territory=parent
    )
    child.slots.create(workspace=workspace, member=member, role="primary")
    clone = api.post(f"{PLANS}{plan.pk}/clone/", format="json").json()
    copied = Territory.objects.get(plan_id=clone["id"], name="Child")
    assert copied.parent.name == "Parent" and copied.parent.plan_id == clone["id"]
    assert copied.fallback_territory_id == copied.parent_id
    assert list(copied.slots.values_list("member_id", flat=True)) == [member.pk]


def test_simulate_counts_records_per_territory_without_writing(api, workspace):
    plan = active_plan(workspace)
    TerritoryFactory(workspace=workspace, plan=plan, name="US", rule=US)
    response = api.post(
        f"{PLANS}{plan.pk}/simulate/",
        {"records": [{"country": "US"}, {"country": "us"}, {"country": "FR"}]},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["unmatched"] == 1
    assert response.json()["territories"][0]["records"] == 2


def test_match_explains_candidates_conflicts_and_winner(api, workspace):
    TerritoryFactory(workspace=workspace, name="US", rule=US, priority=10)
    TerritoryFactory(workspace=workspace, name="US priority", rule=US, priority=50)
    result = match(api, country="US")
    assert result["winner"]["name"] == "US priority"
    assert [c["name"] for c in result["conflicts"]] == ["US"]
    assert [step["step"] for step in result["decision"]] == ["territory", "conflict"]


def test_match_needs_fields_object(api):
    response = api.post(MATCH, {"record": {"fields": "US"}}, format="json")
    assert response.status_code == 400
    assert "record" in response.json()


@pytest.mark.parametrize(
    "fields, where",
    [
        ({"employees": 10**400}, "record.fields.employees"),
        ({"tags": [{"nested": 1}]}, "record.fields.tags"),
        ({"address": {"city": "Paris"}}, "record.fields.address"),
    ],
)
def test_match_refuses_values_a_rule_cannot_compare(api, workspace, fields, where):
    TerritoryFactory(workspace=workspace, rule={"field": "employees", "op": "gt", "value": 5})
    response = api.post(MATCH, {"record": {"fields": fields}}, format="json")
    assert response.status_code == 400
    assert where in str(response.json()["record"])


def test_simulate_names_the_bad_record(api, workspace):
    plan = active_plan(workspace)
    records = [{"country": "US"}, {"employees": 10**400}]
    response = api.post(f"{PLANS}{plan.pk}/simulate/", {"records": records}, format="json")
    assert response.status_code == 400
    assert "records.1.employees" in str(response.json()["records"])


def test_match_is_allowed_for_a_read_only_key(make_client, workspace):
    client = make_client(workspace, scopes="read")
    assert client.post(MATCH, {"record": {"fields": {}}}, format="json").status_code == 200


def test_account_lock_overrides_rules(api, workspace):
    TerritoryFactory(workspace=workspace, name="US", rule=US, priority=99)
    strategic = TerritoryFactory(workspace=workspace, name="Strategic")
    response = api.post(
        LOCKS,
        {"account": "https://www.Acme.com", "territory": strategic.pk, "reason": "exec sponsor"},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["account"] == "acme.com"
    result = match(api, country="US", domain="acme.com")
    assert result["step"] == "lock" and result["winner"]["name"] == "Strategic"
    duplicate = api.post(LOCKS, {"account": "acme.com", "territory": strategic.pk}, format="json")
    assert duplicate.status_code == 400


def test_named_accounts_match_before_rules(api, workspace):
    TerritoryFactory(workspace=workspace, name="US", rule=US, priority=99)
    TerritoryFactory(
        workspace=workspace, name="Named", kind="named_account", named_accounts=["globex.com"]
    )
    result = match(api, country="US", domain="GLOBEX.com")
    assert result["step"] == "named_account" and result["winner"]["name"] == "Named"


def test_rule_and_slot_changes_are_audited(api, workspace):
    member = MemberFactory(workspace=workspace)
    territory = api.post(TERRITORIES, {"name": "West", "rule": US}, format="json").json()
    api.patch(
        f"{TERRITORIES}{territory['id']}/",
        {"rule": {"field": "country", "op": "eq", "value": "CA"}, "slots": [{"member": member.pk}]},
        format="json",
    )
    entry = AuditEntry.objects.filter(object_type="territories.territory", action="update").get()
    assert entry.before["rule"] == US and entry.before["slots"] == []
    assert entry.after["rule"]["value"] == "CA"
    assert entry.after["slots"][0]["member"] == member.pk
    assert entry.actor_label.startswith("api key")


def test_viewer_cannot_change_territories(user_client, workspace):
    client = user_client(workspace, role="viewer")
    assert client.get(TERRITORIES).status_code == 200
    assert client.post(TERRITORIES, {"name": "X"}, format="json").status_code == 403


def test_other_workspace_cannot_match_against_our_plan(workspace, other_api):
    TerritoryFactory(workspace=workspace, rule=US)
    assert match(other_api, country="US")["winner"] is None
    plan = active_plan(workspace)
    assert other_api.post(f"{PLANS}{plan.pk}/activate/").status_code == 404
    assert other_api.post(f"{PLANS}{plan.pk}/clone/").status_code == 404
    assert (
        other_api.post(
            MATCH, {"record": {"fields": {}}, "plan": plan.pk}, format="json"
        ).status_code
        == 400
    )


def test_patching_slots_without_a_member_is_400(api, workspace):
    territory = TerritoryFactory(workspace=workspace)
    response = api.patch(
        f"/api/v1/territories/{territory.pk}/", {"slots": [{"role": "primary"}]}, format="json"
    )
    assert response.status_code == 400
    assert "slot 0 needs a member" in str(response.json()["slots"])


def test_a_draft_plan_goes_with_its_tree_but_a_parent_alone_is_refused(api, workspace):
    plan = TerritoryPlanFactory(workspace=workspace, status="draft")
    parent = TerritoryFactory(workspace=workspace, plan=plan)
    TerritoryFactory(workspace=workspace, plan=plan, parent=parent)
    refused = api.delete(f"/api/v1/territories/{parent.pk}/")
    assert refused.status_code == 400
    assert "child territories first" in str(refused.json())
    assert api.delete(f"{PLANS}{plan.pk}/").status_code == 204
    assert not Territory.objects.filter(plan_id=plan.pk).exists()


def test_deleting_a_member_who_owns_history_is_409(api, workspace):
    from tests.allocation.factories import AllocationFactory

    allocation = AllocationFactory(workspace=workspace)
    response = api.delete(f"/api/v1/members/{allocation.owner_id}/")
    assert response.status_code == 409
    assert "still referenced by allocations" in response.json()["detail"]


def test_an_overlay_slot_carries_a_split_credit_of_0_to_100(api, workspace):
    ada, sol = MemberFactory(workspace=workspace), MemberFactory(workspace=workspace)

    def create(name, slots):
        return api.post(TERRITORIES, {"name": name, "slots": slots}, format="json")

    for bad in (101, -1, "x"):
        response = create("Bad", [{"member": sol.pk, "role": "overlay", "credit_percent": bad}])
        assert response.status_code == 400 and "credit_percent" in str(response.json())
    primary_credit = create("Bad", [{"member": ada.pk, "role": "primary", "credit_percent": 10}])
    assert primary_credit.status_code == 400 and "credit_percent" in str(primary_credit.json())
    assert not Territory.objects.filter(name="Bad").exists()
    response = create(
        "West",
        [
            {"member": ada.pk, "role": "primary"},
            {"member": sol.pk, "role": "overlay", "credit_percent": 20},
        ],
    )
    assert response.status_code == 201, response.json()
    assert [(s["role"], s["credit_percent"]) for s in response.json()["slots"]] == [
        ("primary", 0),
        ("overlay", 20),
    ]
    clone = api.post(f"{PLANS}{active_plan(workspace).pk}/clone/", format="json").json()
    copied = Territory.objects.get(plan_id=clone["id"], name="West")
    assert copied.slots.get(role="overlay").credit_percent == 20
