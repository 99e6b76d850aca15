"""The job page: a progress bar that HTMX refreshes every second while the job runs (no
inline script), the partial it swaps in, cancel, and tenancy."""

import pytest

from jobs.models import Job

pytestmark = pytest.mark.django_db


def _running_job(workspace):
    job = Job.objects.create(
        workspace=workspace,
        kind="reevaluate",
        handler="book.reevaluate",
        status="running",
        progress_done=25,
        progress_total=100,
    )
    return job


def test_a_running_job_polls_itself(user_client, workspace):
    job = _running_job(workspace)
    client = user_client(workspace, role="viewer")
    body = client.get(f"/jobs/{job.pk}/").content.decode()
    assert 'hx-trigger="every 1s"' in body
    assert 'value="25"' in body
    assert "<script>" not in body and "onclick" not in body
    partial = client.get(f"/jobs/{job.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert partial.lstrip().startswith('<section class="card" id="job"')
    assert "25 of 100 done" in partial
    assert "Cancel job" not in partial  # viewers cannot cancel


def test_a_manager_cancels_from_the_page(user_client, workspace):
    job = _running_job(workspace)
    client = user_client(workspace, role="manager")
    assert "Cancel job" in client.get(f"/jobs/{job.pk}/").content.decode()
    response = client.post(f"/jobs/{job.pk}/cancel/", follow=True)
    job.refresh_from_db()
    assert job.status == "cancelled"
    assert "every 1s" not in response.content.decode()
    again = client.post(f"/jobs/{job.pk}/cancel/", follow=True)
    assert "already cancelled" in again.content.decode()


def test_jobs_list_and_tenancy(user_client, workspace, other_workspace):
    job = _running_job(workspace)
    assert f"/jobs/{job.pk}/" in user_client(workspace).get("/jobs/").content.decode()
    assert user_client(other_workspace).get(f"/jobs/{job.pk}/").status_code == 404
