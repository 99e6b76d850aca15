"""The comparison page without a browser: reachable from the plan picker, each role sees
what it may do, the simulation's progress card, and accepting suggestions from the form."""

import pytest

from territories.models import AccountLock
from tests.planning.helpers import simulate_inline, small_book


@pytest.fixture(autouse=True)
def jobs_inline(settings):
    settings.JOBS_EAGER_MODE = "inline"


def test_the_plan_picker_links_to_the_comparison(user_client, workspace):
    book = small_book(workspace)
    page = user_client(workspace, role="viewer").get(f"/territories/?plan={book.draft.pk}")
    assert f"/territories/plans/{book.draft.pk}/compare/" in page.content.decode()
    assert "Compare with active" in page.content.decode()


def test_before_a_simulation_the_page_offers_one_to_managers_only(user_client, workspace):
    book = small_book(workspace)
    url = f"/territories/plans/{book.draft.pk}/compare/"
    viewer = user_client(workspace, role="viewer")
    page = viewer.get(url).content.decode()
    assert 'data-testid="no-simulation"' in page and 'data-testid="simulate"' not in page
    assert viewer.post(f"/territories/plans/{book.draft.pk}/simulate/").status_code == 403
    manager = user_client(workspace, role="manager")
    assert 'data-testid="simulate"' in manager.get(url).content.decode()


def test_after_the_simulation_the_page_shows_scores_moves_and_filters(
    user_client, workspace, django_capture_on_commit_callbacks
):
    book = small_book(workspace)
    simulate_inline(book.draft, django_capture_on_commit_callbacks)
    client = user_client(workspace, role="viewer")
    url = f"/territories/plans/{book.draft.pk}/compare/"
    page = client.get(url).content.decode()
    assert "71.72 → 25.46" in page
    assert page.count('data-testid="move"') == 2
    filtered = client.get(f"{url}?member={book.dee.pk}").content.decode()
    assert filtered.count('data-testid="move"') == 1 and "South" in filtered
    by_territory = client.get(f"{url}?territory=West").content.decode()
    assert by_territory.count('data-testid="move"') == 1
    # A filter value that names nothing is ignored; a NUL is refused; never a 500.
    assert client.get(f"{url}?member=abc&territory=Nowhere").status_code == 200
    assert client.get(f"{url}?territory=%00").status_code == 400


def test_the_progress_card_reloads_the_page_when_the_job_ended(
    user_client, workspace, django_capture_on_commit_callbacks
):
    book = small_book(workspace)
    simulate_inline(book.draft, django_capture_on_commit_callbacks)
    response = user_client(workspace, role="viewer").get(
        f"/territories/plans/{book.draft.pk}/compare/?progress=1", HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200 and response["HX-Refresh"] == "true"


def test_an_admin_accepts_suggestions_from_the_page(user_client, workspace):
    from tests.planning.test_api import _siblings

    plan, *_ = _siblings(workspace)
    admin = user_client(workspace, role="admin")
    page = admin.get(f"/territories/plans/{plan.pk}/compare/").content.decode()
    assert page.count('data-testid="suggestion"') == 1
    from planning.selectors import rebalance_suggestions

    [move] = rebalance_suggestions(plan=plan)["moves"]
    response = admin.post(f"/territories/plans/{plan.pk}/rebalance/", {"suggestion": [move["id"]]})
    assert response.status_code == 302
    assert AccountLock.objects.count() == 2
    manager = user_client(workspace, role="manager")
    assert (
        manager.post(f"/territories/plans/{plan.pk}/rebalance/", {"suggestion": ["x"]}).status_code
        == 403
    )
