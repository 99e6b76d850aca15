"""The deal-move queue page: managers see the moves a `manual` transition queued and apply
or dismiss each; a rep or viewer may not; the plan page shows the activation panel."""

import pytest

from tests.transitions.factories import book_moving, owner_of
from transitions.models import TransitionMove

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(api, workspace, django_capture_on_commit_callbacks):
    book = book_moving(workspace)
    with django_capture_on_commit_callbacks(execute=True):
        api.post(
            f"/api/v1/territory-plans/{book.draft.pk}/activate/",
            {"transition": {"open_deals": "manual"}},
            format="json",
        )
    return book


def test_a_manager_works_through_the_queue(queued, workspace, user_client):
    manager = user_client(workspace, role="manager", member=queued.manager)
    page = manager.get("/transitions/moves/").content.decode()
    assert "Late deal" in page and "Early deal" in page and "Ned New" in page
    late = TransitionMove.objects.get(opportunity=queued.late)
    early = TransitionMove.objects.get(opportunity=queued.early)

    assert manager.post(f"/transitions/moves/{late.pk}/apply/").status_code == 302
    assert owner_of(queued.late) == queued.new.pk
    manager.post(f"/transitions/moves/{early.pk}/dismiss/")
    assert owner_of(queued.early) == queued.old.pk
    again = manager.post(f"/transitions/moves/{late.pk}/apply/", follow=True).content.decode()
    assert "already applied" in again
    assert "No deal move is waiting" in manager.get("/transitions/moves/").content.decode()


def test_a_manager_of_another_team_sees_no_move_and_cannot_decide_one(
    queued, workspace, user_client
):
    from tests.factories import MemberFactory

    elsewhere = user_client(workspace, role="manager", member=MemberFactory(workspace=workspace))
    move = TransitionMove.objects.get(opportunity=queued.late)

    assert "Late deal" not in elsewhere.get("/transitions/moves/").content.decode()
    assert elsewhere.post(f"/transitions/moves/{move.pk}/apply/").status_code == 404
    assert TransitionMove.objects.get(pk=move.pk).status == "pending"


@pytest.mark.parametrize("role", ["viewer", "rep"])
def test_a_role_below_manager_may_not_decide(queued, workspace, user_client, role):
    client = user_client(workspace, role=role)
    move = TransitionMove.objects.get(opportunity=queued.late)
    assert client.get("/transitions/moves/").status_code == 403
    assert client.post(f"/transitions/moves/{move.pk}/apply/").status_code == 403
    assert TransitionMove.objects.get(pk=move.pk).status == "pending"


def test_the_plan_page_lists_the_activation_with_its_counts(queued, workspace, user_client):
    page = user_client(workspace).get(f"/territories/?plan={queued.draft.pk}").content.decode()
    assert 'data-testid="activations"' in page and "manual" in page
    assert 'data-testid="activate-form"' not in page  # active now: nothing to activate
