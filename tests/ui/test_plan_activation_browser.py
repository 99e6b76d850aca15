"""Plan activation with a transition in headless Chromium: an admin schedules a draft from
the plan page (it becomes read-only), unschedules it, then activates it now with a
stage-based transition; the activation job's progress refreshes by itself (HTMX polling)
until it shows the counts, and the activation history lists it."""

import pytest

from tests.factories import MembershipFactory
from tests.transitions.factories import book_moving, owner_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "pw-for-tests-1"


def test_admin_activates_a_plan_with_a_transition_and_watches_the_job(page, login, shot, workspace):
    admin = MembershipFactory(workspace=workspace, role="admin").user
    book = book_moving(workspace)
    login(admin.username, PASSWORD)
    page.goto(f"/territories/?plan={book.draft.pk}")
    form = page.locator("[data-testid=activate-form]")

    form.locator("input[name=effective_at]").fill("2999-01-01T09:00")
    form.locator("input[name=confirm]").fill("FY27")
    form.locator("button.primary").click()
    page.wait_for_selector("[data-testid=scheduled]")
    assert "read-only" in page.inner_text("[data-testid=read-only]")
    assert page.locator("[data-testid=new-territory]").count() == 0
    shot("plan_scheduled")
    page.click("[data-testid=unschedule]")
    page.wait_for_selector("[data-testid=activate-form]")

    form.locator("select[name=open_deals]").select_option("stage_based")
    form.locator("select[name=threshold_kind]").select_option("probability")
    form.locator("input[name=threshold_value]").fill("60")
    form.locator("input[name=overlap_days]").fill("30")
    form.locator("input[name=confirm]").fill("FY27")
    form.locator("button.primary").click()
    page.wait_for_selector("[data-testid=job][data-status=succeeded]", timeout=30_000)
    job = page.inner_text("[data-testid=job]")
    assert "accounts_moved\t2" in job and "deals_moved\t1" in job and "deals_kept\t1" in job
    history = page.inner_text("[data-testid=activations]")
    assert "activated" in history and "unscheduled" in history
    shot("plan_activated_with_transition")
    assert owner_of(book.early) == book.new.pk and owner_of(book.late) == book.old.pk


def test_a_bad_threshold_is_refused_with_the_field_named(page, login, workspace):
    admin = MembershipFactory(workspace=workspace, role="admin").user
    book = book_moving(workspace)
    login(admin.username, PASSWORD)
    page.goto(f"/territories/?plan={book.draft.pk}")
    form = page.locator("[data-testid=activate-form]")
    form.locator("select[name=open_deals]").select_option("stage_based")
    form.locator("select[name=threshold_kind]").select_option("stage")
    form.locator("input[name=threshold_value]").fill("Signed in blood")
    form.locator("input[name=confirm]").fill("FY27")
    form.locator("button.primary").click()
    page.wait_for_selector(".messages")
    assert "transition.stage_threshold.stage" in page.inner_text(".messages")
    assert "draft" in page.inner_text("h2")
