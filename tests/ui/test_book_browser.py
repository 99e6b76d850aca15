"""The book in headless Chromium: an admin uploads accounts, the job page's progress bar
refreshes by itself (HTMX polling, no inline script) until the job is done, and the
accounts and coverage pages show the result."""

import pytest

from jobs.models import Job
from tests.book.helpers import us_territory
from tests.factories import MembershipFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "pw-for-tests-1"


def test_admin_uploads_accounts_and_watches_the_job(page, login, shot, workspace, tmp_path):
    admin = MembershipFactory(workspace=workspace, role="admin").user
    us_territory(workspace, reps=2)
    csv_file = tmp_path / "accounts.csv"
    csv_file.write_text(
        "crm_id,name,country,industry\n"
        + "".join(f"A{i},Account {i},{'US' if i % 4 else 'FR'},Retail\n" for i in range(40))
        + ",Broken,US,Retail\n"
    )
    login(admin.username, PASSWORD)

    page.goto("/accounts/")
    page.set_input_files(
        "form[action='/accounts/import/accounts/'] input[type=file]", str(csv_file)
    )
    page.click("form[action='/accounts/import/accounts/'] button")
    page.wait_for_url("**/jobs/*/")
    page.wait_for_selector("[data-testid=job][data-status=succeeded]", timeout=20_000)
    assert "41 of 41 done" in page.inner_text("[data-testid=job-progress]")
    assert "required" in page.inner_text("[data-testid=job-errors]")
    shot("book_import_job")

    # The import queued a re-evaluation, which runs in its own background job.
    for _ in range(200):
        if Job.objects.filter(kind="reevaluate", status="succeeded").exists():
            break
        page.wait_for_timeout(100)
    page.goto("/accounts/?status=orphaned")
    assert page.locator("[data-testid=accounts] tbody tr").count() == 10
    page.goto("/coverage/")
    assert page.inner_text("[data-testid=orphaned]") == "10"
    shot("book_coverage")
