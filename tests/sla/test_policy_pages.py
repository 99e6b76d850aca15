"""The SLA policies page: every role reads the workspace-wide and per-territory policies;
admins create, edit and delete them with the API's validation (the same messages, next to
their field), audited; an empty workspace says what having none means."""

import pytest

from revorg.models import AuditEntry
from sla.models import SlaPolicy
from tests.factories import MembershipFactory, TerritoryFactory

PASSWORD = "pw-for-tests-1"
PAGE = "/sla/policies/"


def body(**changes) -> dict:
    return {
        "name": "Inbound leads",
        "territory": "",
        "respond_within_minutes": "60",
        "remind_at_percent": "75",
        "on_breach": "reassign",
        "max_breaches": "2",
        "record_types": ["lead", "contact"],
        **changes,
    }


@pytest.mark.django_db
def test_the_empty_page_says_records_run_without_a_clock(user_client, workspace):
    page = user_client(workspace, role="viewer").get(PAGE).content.decode()
    assert 'data-testid="sla-empty"' in page and "without a clock" in page
    assert 'data-testid="sla-policy-form"' not in page
    assert f'href="{PAGE}"' in page  # linked from the navigation


@pytest.mark.django_db
def test_an_admin_creates_a_workspace_and_a_territory_policy_audited(user_client, workspace):
    west = TerritoryFactory(workspace=workspace, name="West")
    client = user_client(workspace, role="admin")

    first = client.post("/sla/policies/new/", body())
    second = client.post(
        "/sla/policies/new/",
        body(name="West 30 min", territory=str(west.pk), respond_within_minutes="30",
             on_breach="escalate", max_breaches="0", record_types=["lead"]),
    )  # fmt: skip

    assert first.status_code == second.status_code == 302
    workspace_wide = SlaPolicy.objects.get(workspace=workspace, territory=None)
    assert (workspace_wide.name, workspace_wide.respond_within_minutes) == ("Inbound leads", 60)
    west_policy = SlaPolicy.objects.get(workspace=workspace, territory=west)
    assert (west_policy.on_breach, west_policy.max_breaches, west_policy.record_types) == (
        "escalate",
        0,
        ["lead"],
    )
    assert (
        AuditEntry.objects.filter(
            workspace=workspace, action="create", object_type="sla.slapolicy"
        ).count()
        == 2
    )
    page = user_client(workspace, role="rep").get(PAGE).content.decode()
    assert "workspace-wide" in page and "West 30 min" in page and "Escalate" in page
    assert 'data-testid="sla-policy-form"' not in page  # a rep reads


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"respond_within_minutes": "0"}, "respond_within_minutes"),
        ({"respond_within_minutes": ""}, "respond_within_minutes"),
        ({"remind_at_percent": "100"}, "remind_at_percent"),
        ({"max_breaches": "21"}, "max_breaches"),
        ({"on_breach": "ignore"}, "on_breach"),
        ({"record_types": []}, "record_types"),
        ({"record_types": ["fax"]}, "record_types"),
        ({"name": ""}, "name"),
        ({"territory": "999999999"}, "territory"),
    ],
)
def test_bad_input_is_400_naming_the_field_and_nothing_is_written(
    user_client, workspace, changes, field
):
    client = user_client(workspace, role="admin")
    answer = client.post("/sla/policies/new/", body(**changes))
    assert answer.status_code == 400
    page = answer.content.decode()
    assert f'name="{field}"' in page and "field-error" in page
    assert not SlaPolicy.objects.filter(workspace=workspace).exists()


@pytest.mark.django_db
def test_a_second_policy_for_the_same_territory_is_refused(user_client, workspace):
    west = TerritoryFactory(workspace=workspace, name="West")
    SlaPolicy.objects.create(
        workspace=workspace, name="W", territory=west, respond_within_minutes=9
    )
    client = user_client(workspace, role="admin")
    answer = client.post("/sla/policies/new/", body(territory=str(west.pk)))
    assert answer.status_code == 400
    assert "already has a policy; edit that one." in answer.content.decode()
    assert SlaPolicy.objects.filter(workspace=workspace).count() == 1


@pytest.mark.django_db
def test_an_admin_edits_and_deletes_a_policy(user_client, workspace):
    policy = SlaPolicy.objects.create(workspace=workspace, name="Old", respond_within_minutes=60)
    client = user_client(workspace, role="admin")

    form = client.get(f"/sla/policies/{policy.pk}/").content.decode()
    assert 'value="Old"' in form and 'value="60"' in form
    assert client.post(f"/sla/policies/{policy.pk}/", body(name="New")).status_code == 302
    policy.refresh_from_db()
    assert policy.name == "New"
    update = AuditEntry.objects.get(workspace=workspace, action="update")
    assert (update.before["name"], update.after["name"]) == ("Old", "New")

    assert client.post(f"/sla/policies/{policy.pk}/delete/").status_code == 302
    assert not SlaPolicy.objects.filter(pk=policy.pk).exists()
    assert AuditEntry.objects.filter(workspace=workspace, action="delete").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["viewer", "rep", "manager", "director"])
def test_below_admin_reads_but_writes_nothing(user_client, workspace, role):
    policy = SlaPolicy.objects.create(workspace=workspace, name="P", respond_within_minutes=60)
    client = user_client(workspace, role=role)

    assert client.get(PAGE).status_code == 200
    assert client.post("/sla/policies/new/", body(name="Mine")).status_code == 403
    assert client.post(f"/sla/policies/{policy.pk}/", body(name="Mine")).status_code == 403
    assert client.post(f"/sla/policies/{policy.pk}/delete/").status_code == 403
    assert list(SlaPolicy.objects.filter(workspace=workspace).values_list("name", flat=True)) == [
        "P"
    ]


@pytest.mark.django_db
def test_another_workspaces_policy_is_404(user_client, workspace, other_workspace):
    theirs = SlaPolicy.objects.create(
        workspace=other_workspace, name="Theirs", respond_within_minutes=60
    )
    client = user_client(workspace, role="admin")
    assert client.get(f"/sla/policies/{theirs.pk}/").status_code == 404
    assert client.post(f"/sla/policies/{theirs.pk}/delete/").status_code == 404
    assert "Theirs" not in client.get(PAGE).content.decode()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_an_admin_manages_sla_policies_in_the_browser(page, login, shot, workspace):
    admin = MembershipFactory(workspace=workspace, role="admin").user
    emea = TerritoryFactory(workspace=workspace, name="EMEA")

    login(admin.username, PASSWORD)
    page.click("nav >> text=SLA")
    assert "No SLA policy yet" in page.locator("[data-testid=sla-empty]").inner_text()
    shot("sla_policies_empty")

    form = page.locator("[data-testid=sla-policy-form]")
    form.locator("input[name=name]").fill("Everyone: 4 hours")
    form.locator("input[name=respond_within_minutes]").fill("240")
    form.locator("button", has_text="Save").click()
    page.wait_for_selector(".messages >> text=SLA policy “Everyone: 4 hours” saved.")

    form = page.locator("[data-testid=sla-policy-form]")
    form.locator("input[name=name]").fill("EMEA: 1 hour")
    form.locator("input[name=respond_within_minutes]").fill("60")
    form.locator("select[name=on_breach]").select_option("escalate")
    form.locator("button", has_text="Save").click()  # workspace-wide again: refused
    error = page.locator("label", has_text="Covers").locator(".field-error")
    assert "the workspace (no territory) already has a policy" in error.inner_text()
    shot("sla_policies_error")
    form = page.locator("[data-testid=sla-policy-form]")
    assert form.locator("input[name=name]").input_value() == "EMEA: 1 hour"  # kept
    form.locator("select[name=territory]").select_option(label=f"{emea.plan.name} / EMEA")
    form.locator("button", has_text="Save").click()
    page.wait_for_selector(".messages >> text=SLA policy “EMEA: 1 hour” saved.")

    rows = page.locator("[data-testid=sla-policies] tbody tr")
    assert rows.count() == 2
    emea = page.locator("tr[data-policy='EMEA: 1 hour']")
    assert "EMEA" in emea.inner_text() and "60 min" in emea.inner_text()
    assert "Escalate" in emea.inner_text()
    shot("sla_policies_list")
    assert SlaPolicy.objects.get(workspace=workspace, territory__name="EMEA").on_breach == (
        "escalate"
    )
