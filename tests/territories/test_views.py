"""The territory pages through the Django test client on Postgres: "Test a record" (a dry
run of the real engine, nothing written), plan rename and delete, territory delete, the
suggestions the editor offers, and the workspace and role walls around each of them."""

import pytest

from allocation.models import Allocation, RotationState
from revorg.models import AuditEntry
from territories.models import Territory, TerritoryPlan
from tests.allocation.factories import AllocationFactory
from tests.crm_sync.factories import CrmConnectionFactory
from tests.factories import (
    MemberFactory,
    TerritoryFactory,
    TerritoryPlanFactory,
    TerritorySlotFactory,
    active_plan,
)

pytestmark = pytest.mark.django_db


def _europe(workspace, plan=None):
    """Europe (FR/DE) with Ana (speaks fr) and Ben (speaks en), a language eligibility rule
    and Cy as fallback member."""
    ana = MemberFactory(workspace=workspace, name="Ana", metadata={"languages": ["fr"]})
    ben = MemberFactory(workspace=workspace, name="Ben", metadata={"languages": ["en"]})
    cy = MemberFactory(workspace=workspace, name="Cy")
    europe = TerritoryFactory(
        workspace=workspace,
        plan=plan or active_plan(workspace),
        name="Europe",
        rule={"field": "country", "op": "in", "value": ["FR", "DE"]},
        member_rule={"field": "language", "op": "in", "value_from": "member.languages"},
        fallback_member=cy,
    )
    TerritorySlotFactory(territory=europe, member=ana, position=0)
    TerritorySlotFactory(territory=europe, member=ben, position=1)
    return europe


def _test(client, text, **extra):
    return client.post("/territories/test-record/", {"record": text, **extra})


def test_test_a_record_shows_owner_exclusions_distribution_and_fallback_by_name(
    user_client, workspace
):
    _europe(workspace)
    client = user_client(workspace, role="viewer")  # nothing is written: viewers may

    chosen = _test(client, "country: FR\nlanguage: en")
    assert chosen.status_code == 200
    result = chosen.context["result"]
    assert (result["status"], result["owner"], result["territory"]) == ("assigned", "Ben", "Europe")
    assert [(s["name"], s["detail"], s["why"]) for s in result["exclusions"]] == [
        (
            "Ana",
            "primary: member eligibility rule not met",
            ["language en is not in member.languages (fr)"],
        )
    ]
    assert [(s["name"], s["detail"]) for s in result["distribution"]] == [
        ("Ben", "round_robin turn 2 of 2")
    ]

    nobody_speaks = _test(client, "country: DE")  # no language: the rule fails for both
    result = nobody_speaks.context["result"]
    assert (result["status"], result["owner"]) == ("fallback", "Cy")
    assert [(s["name"], s["why"]) for s in result["exclusions"]] == [
        ("Ana", ["the record has no language"]),
        ("Ben", ["the record has no language"]),
    ]
    assert [(s["name"], s["outcome"], s["detail"]) for s in result["fallbacks"]] == [
        ("Cy", "chosen", "fallback member of Europe")
    ]
    body = nobody_speaks.content.decode()
    assert "Cy" in body and "fallback member of Europe" in body
    assert Allocation.objects.count() == 0 and RotationState.objects.count() == 0


def test_test_a_record_reads_json_and_runs_against_the_chosen_draft_plan(user_client, workspace):
    active_plan(workspace)
    draft = TerritoryPlanFactory(workspace=workspace, status="draft")
    _europe(workspace, plan=draft)
    client = user_client(workspace)

    on_active = _test(client, '{"country": "FR", "language": "fr"}')
    assert on_active.context["result"]["status"] == "unassigned"
    on_draft = _test(
        client,
        '{"type": "account", "fields": {"country": "FR", "language": "fr"}}',
        plan=draft.pk,
    )
    assert on_draft.context["result"]["owner"] == "Ana"


def test_unreadable_lines_are_reported_and_nothing_is_decided(user_client, workspace):
    _europe(workspace)
    response = _test(user_client(workspace), "country: FR\nlanguage fr\n:x")
    assert response.status_code == 400
    assert "result" not in response.context
    body = response.content.decode()
    assert "line 2" in body and "language fr" in body and "line 3" in body
    bad_type = _test(user_client(workspace), "country: FR", record_type="ticket")
    assert bad_type.status_code == 400
    assert "unknown record type" in bad_type.content.decode()


def test_another_workspaces_plan_is_a_404_for_test_a_record(
    user_client, workspace, other_workspace
):
    theirs = TerritoryPlanFactory(workspace=other_workspace)
    assert _test(user_client(workspace), "country: FR", plan=theirs.pk).status_code == 404


def test_plans_are_renamed_and_drafts_deleted_with_an_audit_entry(user_client, workspace):
    client = user_client(workspace)
    active = active_plan(workspace)
    draft = TerritoryPlanFactory(workspace=workspace, name="FY27 draft")
    TerritoryFactory(workspace=workspace, plan=draft)

    client.post(f"/territories/plans/{draft.pk}/rename/", {"name": "FY27 v2"})
    assert TerritoryPlan.objects.get(pk=draft.pk).name == "FY27 v2"
    refused = client.post(f"/territories/plans/{active.pk}/delete/", {"confirm": active.name})
    assert "active plan cannot be deleted" in client.get(refused["Location"]).content.decode()
    client.post(f"/territories/plans/{draft.pk}/delete/", {"confirm": "wrong"})
    assert TerritoryPlan.objects.filter(pk=draft.pk).exists()
    client.post(f"/territories/plans/{draft.pk}/delete/", {"confirm": "FY27 v2"})
    assert not TerritoryPlan.objects.filter(pk=draft.pk).exists()
    audited = AuditEntry.objects.filter(object_type="territories.territoryplan")
    assert sorted(audited.filter(object_id=str(draft.pk)).values_list("action", flat=True)) == [
        "delete",
        "update",
    ]


def test_an_archived_plan_cannot_be_renamed_and_shows_no_edit_controls(user_client, workspace):
    archived = TerritoryPlanFactory(workspace=workspace, name="FY25", status="archived")
    territory = TerritoryFactory(workspace=workspace, plan=archived, name="Old West")
    client = user_client(workspace)

    response = client.post(f"/territories/plans/{archived.pk}/rename/", {"name": "FY25b"})
    assert "archived" in client.get(response["Location"]).content.decode()
    assert TerritoryPlan.objects.get(pk=archived.pk).name == "FY25"
    index = client.get(f"/territories/?plan={archived.pk}").content.decode()
    assert "New territory" not in index and "/rename/" not in index and "/delete/" not in index
    page = client.get(f"/territories/{territory.pk}/").content.decode()
    assert 'data-testid="save-territory"' not in page and "Delete territory" not in page
    assert client.get(f"/territories/new/?plan={archived.pk}").status_code == 403


def test_a_territory_is_deleted_unless_history_references_it(user_client, workspace):
    client = user_client(workspace)
    spare = TerritoryFactory(workspace=workspace, name="Spare")
    used = TerritoryFactory(workspace=workspace, name="Used")
    AllocationFactory(workspace=workspace, territory=used)

    gone = client.post(f"/territories/{spare.pk}/delete/")
    assert gone["Location"] == f"/territories/?plan={spare.plan_id}"
    assert not Territory.objects.filter(pk=spare.pk).exists()
    assert AuditEntry.objects.filter(action="delete", object_id=str(spare.pk)).count() == 1

    kept = client.post(f"/territories/{used.pk}/delete/")
    assert kept["Location"] == f"/territories/{used.pk}/"
    message = client.get(kept["Location"]).content.decode()
    assert "Used was not deleted: 1 allocation reference this territory" in message
    assert Territory.objects.filter(pk=used.pk).exists()
    assert AuditEntry.objects.filter(action="delete", object_id=str(used.pk)).count() == 0


def test_territory_writes_need_the_admin_role_and_the_workspace(
    user_client, workspace, other_workspace
):
    mine = TerritoryFactory(workspace=workspace)
    theirs = TerritoryFactory(workspace=other_workspace)
    their_plan = TerritoryPlanFactory(workspace=other_workspace)
    viewer = user_client(workspace, role="viewer")
    assert viewer.post(f"/territories/{mine.pk}/delete/").status_code == 403
    rename = f"/territories/plans/{mine.plan_id}/rename/"
    assert viewer.post(rename, {"name": "x"}).status_code == 403
    assert viewer.get(f"/territories/{mine.pk}/").status_code == 200  # read-only page
    admin = user_client(workspace)
    for url in (
        f"/territories/{theirs.pk}/",
        f"/territories/{theirs.pk}/delete/",
        f"/territories/plans/{their_plan.pk}/rename/",
        f"/territories/plans/{their_plan.pk}/delete/",
    ):
        response = admin.post(url, {"name": "x", "confirm": their_plan.name})
        assert response.status_code in (404, 405), url
        assert admin.get(url).status_code in (404, 405), url
    assert Territory.objects.filter(pk=theirs.pk).exists()
    assert TerritoryPlan.objects.get(pk=their_plan.pk).name != "x"


def test_the_editor_suggests_record_fields_and_member_attributes(user_client, workspace):
    territory = TerritoryFactory(workspace=workspace)
    MemberFactory(workspace=workspace, metadata={"languages": ["fr"], "seniority": "senior"})
    AllocationFactory(workspace=workspace, record_fields={"product": "platform", "country": "FR"})
    CrmConnectionFactory(workspace=workspace, settings={"field_mapping": {"Segment__c": "segment"}})
    response = user_client(workspace).get(f"/territories/{territory.pk}/")
    config = response.context["builder_config"]
    assert {"product", "segment", "country", "annual_revenue"} <= set(config["fields"])
    assert config["member_keys"] == ["languages", "role", "seniority", "timezone"]
    body = response.content.decode()
    assert '<option value="product">' in body


def test_the_demos_hidden_language_rule_is_shown_and_explained(user_client):
    """Issue 15's day-one question: why does a European lead without `language` go
    unassigned? The Europe page shows its eligibility rule, and Test a record says why."""
    from console.demo import load_demo

    workspace, _ = load_demo()
    europe = Territory.objects.get(workspace=workspace, name="Europe")
    client = user_client(workspace)
    page = client.get(f"/territories/{europe.pk}/")
    assert page.context["initial"]["member_rule"] == {
        "field": "language",
        "op": "in",
        "value_from": "member.languages",
    }
    assert "languages" in page.context["builder_config"]["member_keys"]
    result = _test(client, "country: FR", plan=europe.plan_id).context["result"]
    assert result["territory"] == "Europe"
    assert result["exclusions"] and all(
        row["why"] == ["the record has no language"] for row in result["exclusions"]
    )
    with_language = _test(client, "country: FR\nlanguage: fr").context["result"]
    assert with_language["status"] == "assigned" and with_language["exclusions"] != []
