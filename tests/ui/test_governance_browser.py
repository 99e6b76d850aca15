"""The rep's "My queue" and the manager's approval queue in headless Chromium: a rep accepts
a record (its SLA clock stops, the page says so); a manager approves a request with a
comment and it leaves their queue; the workspace settings page shows the approval policy."""

import pytest

from reassignments.models import ReassignmentRequest
from reassignments.services import reassignment_request_create
from revorg.services import SYSTEM
from sla.models import SlaClock
from sla.services import clocks_start
from tests.allocation.factories import AllocationFactory
from tests.factories import MemberFactory, MembershipFactory
from tests.sla.conftest import Team

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "pw-for-tests-1"


def test_a_rep_accepts_a_record_from_my_queue(page, login, shot, workspace):
    team = Team(workspace)
    rep = team.reps[0]
    rep.working_hours = {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
    rep.save()
    first = AllocationFactory(workspace=workspace, owner=rep, territory=team.territory,
                              record_id="00QFIRST")  # fmt: skip
    second = AllocationFactory(workspace=workspace, owner=rep, territory=team.territory,
                               record_id="00QSECOND")  # fmt: skip
    clocks_start(workspace_id=workspace.pk)
    user = MembershipFactory(workspace=workspace, role="rep", member=rep).user
    login(user.username, PASSWORD)
    page.goto("/queue/")
    assert page.locator("[data-testid=pending-count]").inner_text() == "2"
    shot("sla_my_queue_before_accept")
    page.click(f"[data-testid=accept-{first.pk}]")
    page.wait_for_url("**/queue/")
    assert page.locator(f"[data-testid=sla-state-{first.pk}]").inner_text() == "accepted"
    assert page.locator(f"[data-testid=sla-state-{second.pk}]").inner_text() != "accepted"
    assert page.locator("[data-testid=pending-count]").inner_text() == "1"
    assert "Accepted lead 00QFIRST" in page.locator(".messages").inner_text()
    shot("sla_my_queue_after_accept")
    clock = SlaClock.objects.get(allocation=first)
    assert clock.accepted_via == "ui" and clock.accepted_at is not None


def test_a_manager_approves_a_request_from_the_approval_queue(page, login, shot, workspace):
    new_manager = MemberFactory(workspace=workspace, name="Nadia New-Manager")
    new_rep = MemberFactory(workspace=workspace, name="Nico New-Rep", manager=new_manager)
    old_rep = MemberFactory(workspace=workspace, name="Ravi Rep")
    entry = AllocationFactory(workspace=workspace, owner=old_rep, record_id="00QMOVE")
    made = reassignment_request_create(
        workspace=workspace,
        actor=SYSTEM,
        to_member=new_rep,
        reason="Ravi moves to enterprise",
        effective_at=entry.created_at,
        allocation_ids=[entry.pk],
    )
    user = MembershipFactory(workspace=workspace, role="manager", member=new_manager).user
    login(user.username, PASSWORD)
    page.goto("/reassignments/")
    request_card = page.locator(f"[data-testid=request-{made.pk}]")
    assert "Ravi moves to enterprise" in request_card.inner_text()
    assert "The new owner's manager" in page.locator("[data-testid=approval-policy]").inner_text()
    shot("reassignment_approval_queue")
    page.fill(f"[data-testid=comment-{made.pk}]", "Nico has room this quarter")
    page.click(f"[data-testid=approve-{made.pk}]")
    page.wait_for_url("**/reassignments/")
    assert f"Request #{made.pk} approved" in page.locator(".messages").inner_text()
    assert page.locator(f"[data-testid=request-{made.pk}]").count() == 0
    shot("reassignment_approval_queue_after")
    made = ReassignmentRequest.objects.get(pk=made.pk)
    assert made.status == "approved"
    assert made.approvals.get().comment == "Nico has room this quarter"


def test_the_settings_page_sets_the_approval_policy(page, login, shot, workspace):
    admin = MembershipFactory(workspace=workspace, role="admin").user
    login(admin.username, PASSWORD)
    page.goto("/settings/")
    page.select_option("[data-testid=setting-reassignment_approval]", "both_managers")
    page.click("[data-testid=workspace-settings] button.primary")
    page.wait_for_url("**/settings/")
    shot("workspace_settings_approval_policy")
    workspace.refresh_from_db()
    assert workspace.reassignment_approval == "both_managers"
