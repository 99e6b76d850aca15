"""Server-rendered pages: role guard, inline validation errors, paging, tenancy scoping."""

import pytest
from django.test import Client

from revorg.models import ApiKey
from tests.allocation.factories import AllocationFactory
from tests.factories import (
    AbsenceFactory,
    MemberFactory,
    MembershipFactory,
    TerritoryFactory,
    TerritoryPlanFactory,
)

pytestmark = pytest.mark.django_db


def test_anonymous_users_are_sent_to_login(client):
    response = client.get("/members/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


@pytest.mark.parametrize("url", ["/api-keys/", "/territories/new/"])
def test_viewer_gets_403_on_admin_pages(browser_client, workspace, url):
    response = browser_client(workspace, role="viewer").get(url)
    assert response.status_code == 403
    assert b"Not allowed" in response.content


def test_viewer_navigation_hides_admin_links(browser_client, workspace):
    body = browser_client(workspace, role="viewer").get("/").content.decode()
    assert "/members/" in body
    assert "/api-keys/" not in body


def test_members_list_searches_filters_and_pages(browser_client, workspace):
    MemberFactory.create_batch(60, workspace=workspace, role="AE")
    MemberFactory(workspace=workspace, name="Zelda Findme", role="SDR")
    client = browser_client(workspace, role="viewer")
    first = client.get("/members/").content.decode()
    assert "Page 1 of 2" in first and "61 members" in first
    found = client.get("/members/", {"q": "findme"}).content.decode()
    assert "Zelda Findme" in found and "1 members" in found
    by_role = client.get("/members/", {"role": "SDR"}).content.decode()
    assert "Zelda Findme" in by_role and "Page 1 of 1" in by_role


def test_members_list_is_scoped_to_the_workspace(browser_client, workspace, other_workspace):
    MemberFactory(workspace=other_workspace, name="Elsewhere Person")
    body = browser_client(workspace).get("/members/").content.decode()
    assert "Elsewhere Person" not in body
    other = MemberFactory(workspace=other_workspace)
    assert browser_client(workspace).get(f"/members/{other.pk}/").status_code == 404


def test_member_edit_saves_tags(browser_client, workspace):
    lead = MemberFactory(workspace=workspace)
    member = MemberFactory(workspace=workspace, manager=lead)
    client = browser_client(workspace, role="manager", member=lead)
    response = client.post(
        f"/members/{member.pk}/",
        {
            "name": "Ana",
            "timezone": "Europe/Paris",
            "role": "AE",
            "languages": "fr, en",
            "specialisations": "fintech;  health",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.metadata["languages"] == ["fr", "en"]
    assert member.metadata["specialisations"] == ["fintech", "health"]


def test_member_edit_shows_errors_inline_without_saving(browser_client, workspace):
    member = MemberFactory(workspace=workspace, timezone="UTC")
    response = browser_client(workspace).post(
        f"/members/{member.pk}/", {"name": "X", "timezone": "Mars/Olympus"}
    )
    assert response.status_code == 400
    assert b"field-error" in response.content
    member.refresh_from_db()
    assert member.timezone == "UTC"


def test_viewer_cannot_edit_a_member(browser_client, workspace):
    member = MemberFactory(workspace=workspace, name="Before")
    response = browser_client(workspace, role="viewer").post(
        f"/members/{member.pk}/", {"name": "After"}
    )
    assert response.status_code == 403
    member.refresh_from_db()
    assert member.name == "Before"


def test_absence_with_end_before_start_is_refused_inline(browser_client, workspace):
    member = MemberFactory(workspace=workspace)
    response = browser_client(workspace).post(
        f"/members/{member.pk}/absences/",
        {"starts_at": "2026-05-02T10:00", "ends_at": "2026-05-01T10:00"},
    )
    assert response.status_code == 400
    assert b"must be after starts_at" in response.content
    assert member.absences.count() == 0


def test_absence_add_and_remove(browser_client, workspace):
    member = MemberFactory(workspace=workspace)
    client = browser_client(workspace)
    client.post(
        f"/members/{member.pk}/absences/",
        {"starts_at": "2026-05-01T10:00", "ends_at": "2026-05-02T10:00", "reason": "PTO"},
    )
    absence = member.absences.get()
    assert absence.reason == "PTO"
    client.post(f"/members/{member.pk}/absences/{absence.pk}/delete/")
    assert member.absences.count() == 0


def test_absence_of_another_workspace_is_untouched(browser_client, workspace, other_workspace):
    member = MemberFactory(workspace=workspace)
    foreign = AbsenceFactory(workspace=other_workspace)
    browser_client(workspace).post(f"/members/{member.pk}/absences/{foreign.pk}/delete/")
    assert foreign.__class__.objects.filter(pk=foreign.pk).exists()


def test_api_key_is_shown_once_then_listed_by_prefix(browser_client, workspace):
    client = browser_client(workspace)
    body = client.post("/api-keys/", {"name": "play", "scopes": ["read", "allocate"]})
    key = ApiKey.objects.get(workspace=workspace, name="play")
    assert key.scopes == ["read", "allocate"]
    assert b"shown only once" in body.content
    listing = client.get("/api-keys/").content.decode()
    assert key.prefix in listing and "shown only once" not in listing


def test_api_key_errors_are_inline(browser_client, workspace):
    response = browser_client(workspace).post("/api-keys/", {"name": "", "scopes": ["read"]})
    assert response.status_code == 400
    assert b"name must be 1 to 100 characters" in response.content
    response = browser_client(workspace).post("/api-keys/", {"name": "x"})
    assert b"at least one scope is required" in response.content


def test_api_key_revoke_is_scoped(browser_client, workspace, other_workspace):
    from revorg.services import api_key_create

    mine = api_key_create(workspace=workspace, name="m", scopes="read").api_key
    theirs = api_key_create(workspace=other_workspace, name="t", scopes="read").api_key
    client = browser_client(workspace)
    assert client.post(f"/api-keys/{theirs.pk}/revoke/").status_code == 404
    client.post(f"/api-keys/{mine.pk}/revoke/")
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.revoked_at is not None and theirs.revoked_at is None


def test_territory_tree_nests_children(browser_client, workspace):
    parent = TerritoryFactory(workspace=workspace, name="EMEA")
    TerritoryFactory(workspace=workspace, plan=parent.plan, parent=parent, name="DACH")
    body = browser_client(workspace, role="viewer").get("/territories/").content.decode()
    assert body.index("EMEA") < body.index("DACH")
    assert "<details" in body


def test_plan_activation_needs_the_typed_name(browser_client, workspace):
    draft = TerritoryPlanFactory(workspace=workspace, name="FY27")
    client = browser_client(workspace)
    client.post(f"/territories/plans/{draft.pk}/activate/", {"confirm": "nope"})
    draft.refresh_from_db()
    assert draft.status == "draft"
    client.post(f"/territories/plans/{draft.pk}/activate/", {"confirm": "FY27"})
    draft.refresh_from_db()
    assert draft.status == "active"


def test_plan_clone_makes_a_draft(browser_client, workspace):
    territory = TerritoryFactory(workspace=workspace)
    response = browser_client(workspace).post(
        f"/territories/plans/{territory.plan_id}/clone/", {"name": "Copy"}
    )
    assert response.status_code == 302
    from territories.models import TerritoryPlan

    clone = TerritoryPlan.objects.get(workspace=workspace, name="Copy")
    assert clone.status == "draft" and clone.territories.count() == 1


def test_allocation_history_filters_and_keyset_pages(browser_client, workspace):
    AllocationFactory.create_batch(55, workspace=workspace)
    unassigned = AllocationFactory(workspace=workspace, status="unassigned", owner=None)
    client = browser_client(workspace, role="viewer")
    first = client.get("/allocations/").content.decode()
    assert "before=" in first
    queue = client.get("/allocations/", {"status": "unassigned"}).content.decode()
    assert f"/allocations/{unassigned.pk}/" in queue and "before=" not in queue


def test_allocation_trace_is_readable_and_scoped(browser_client, workspace, other_workspace):
    allocation = AllocationFactory(workspace=workspace)
    client = browser_client(workspace, role="viewer")
    body = client.get(f"/allocations/{allocation.pk}/").content.decode()
    assert "country in [US]" in body
    foreign = AllocationFactory(workspace=other_workspace)
    assert client.get(f"/allocations/{foreign.pk}/").status_code == 404


def test_dashboard_counts_unassigned_and_charts_members(browser_client, workspace):
    AllocationFactory(workspace=workspace, owner__name="Chart Person")
    AllocationFactory(workspace=workspace, status="unassigned", owner=None)
    body = browser_client(workspace, role="viewer").get("/").content.decode()
    assert "Chart Person" in body and "<svg" in body
    assert 'data-testid="unassigned">1<' in body


def test_failed_writeback_is_shown_and_can_be_retried(browser_client, workspace):
    from crm_sync.models import WritebackOutbox

    allocation = AllocationFactory(workspace=workspace)
    outbox = WritebackOutbox.objects.create(
        workspace=workspace,
        allocation=allocation,
        provider="hubspot",
        record_type="lead",
        record_id=allocation.record_id,
        owner_crm_user_id="42",
        status="failed",
        attempts=5,
        last_error="HubSpot answered 503",
    )
    body = browser_client(workspace, role="viewer").get(f"/allocations/{allocation.pk}/")
    assert b"HubSpot answered 503" in body.content and b"Retry write-back" not in body.content
    assert (
        browser_client(workspace, role="viewer")
        .post(f"/allocations/{allocation.pk}/writeback/retry/")
        .status_code
        == 403
    )
    owners_manager = browser_client(workspace, role="manager", member=allocation.owner)
    owners_manager.post(f"/allocations/{allocation.pk}/writeback/retry/")
    outbox.refresh_from_db()
    assert outbox.status == "pending" and outbox.next_attempt_at is not None


def test_writeback_retry_leaves_other_states_alone(browser_client, workspace):
    from crm_sync.models import WritebackOutbox

    allocation = AllocationFactory(workspace=workspace)
    outbox = WritebackOutbox.objects.create(
        workspace=workspace,
        allocation=allocation,
        provider="hubspot",
        record_type="lead",
        record_id="x",
        owner_crm_user_id="42",
        status="succeeded",
    )
    browser_client(workspace).post(f"/allocations/{allocation.pk}/writeback/retry/")
    outbox.refresh_from_db()
    assert outbox.status == "succeeded"


def test_workspace_switcher_only_switches_to_own_workspaces(workspace, other_workspace):
    from tests.factories import WorkspaceFactory

    membership = MembershipFactory(workspace=workspace, role="viewer")
    MembershipFactory(workspace=other_workspace, user=membership.user, role="admin")
    stranger = WorkspaceFactory()
    client = Client()
    client.force_login(membership.user)
    client.post("/workspace/switch/", {"workspace": other_workspace.pk})
    assert other_workspace.name in client.get("/").content.decode().split("<h1>")[1]
    assert client.get("/api-keys/").status_code == 200  # admin there
    client.post("/workspace/switch/", {"workspace": stranger.pk})
    client.post("/workspace/switch/", {"workspace": "not-a-number"})
    assert other_workspace.name in client.get("/").content.decode().split("<h1>")[1]


def test_forms_refuse_posts_without_csrf_token(workspace):
    membership = MembershipFactory(workspace=workspace, role="admin")
    client = Client(enforce_csrf_checks=True)
    client.force_login(membership.user)
    assert client.post("/api-keys/", {"name": "x", "scopes": ["read"]}).status_code == 403
    assert not ApiKey.objects.filter(workspace=workspace).exists()


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/members/?page=abc", 200),
        ("/members/?page=99999&active=maybe", 200),
        ("/allocations/?before=x&owner=-1&status=bogus", 400),  # names the field
        ("/territories/?plan=abc", 400),
        ("/territories/new/?plan=999999", 404),
        ("/members/999999/", 404),
    ],
)
def test_bad_query_input_never_500s(browser_client, workspace, url, status):
    assert browser_client(workspace).get(url).status_code == status
