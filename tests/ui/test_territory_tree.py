"""The territories page in headless Chromium renders whatever tree the data holds: 100 levels
deep and a parent cycle (legacy data, written without the service) are shown, not a 500."""

import pytest

from territories.models import Territory
from tests.factories import MembershipFactory, TerritoryFactory, active_plan

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_tree_page_renders_deep_and_looping_legacy_data(page, login, workspace):
    viewer = MembershipFactory(workspace=workspace, role="viewer").user
    plan = active_plan(workspace)
    chain: list[Territory] = []
    for level in range(1, 101):
        chain.append(
            TerritoryFactory(
                workspace=workspace,
                plan=plan,
                parent=chain[-1] if chain else None,
                name=f"Level {level:03d}",
            )
        )
    loop_a = TerritoryFactory(workspace=workspace, plan=plan, name="Loop A")
    TerritoryFactory(workspace=workspace, plan=plan, name="Loop B", parent=loop_a)
    Territory.objects.filter(pk=loop_a.pk).update(parent=Territory.objects.get(name="Loop B"))

    login(viewer.username, "pw-for-tests-1")
    response = page.goto("/territories/")
    assert response.status == 200
    tree = page.locator("[data-testid=tree]")
    deepest = tree.locator("a", has_text="Level 100")
    # Level 100 sits inside 100 nested items of the tree: one per ancestor, and its own.
    assert deepest.locator("xpath=ancestor::li").count() == 100
    assert tree.locator("a", has_text="Level 001").locator("xpath=ancestor::li").count() == 1
    for name in ("Loop A", "Loop B"):
        assert tree.locator("a", has_text=name).count() == 1
    assert tree.locator("details").count() == 102
