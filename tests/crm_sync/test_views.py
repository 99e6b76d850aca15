"""The CRM pages (admins): connections, test results in our words, the sync-run log."""

import pytest

from crm_sync.models import SyncRun
from tests.crm_sync.factories import CrmConnectionFactory

pytestmark = pytest.mark.django_db


def test_the_run_log_survives_removing_its_connection(user_client, workspace):
    admin = user_client(workspace)
    connection = CrmConnectionFactory(workspace=workspace, name="Old portal")
    run = SyncRun.objects.create(
        workspace=workspace, connection=connection, kind="sync", status="failed"
    )
    assert admin.post(f"/crm/{connection.pk}/delete/").status_code == 302

    page = admin.get("/crm/")
    assert page.status_code == 200
    assert f"#{run.pk}" in page.content.decode() and "removed connection" in page.content.decode()
    detail = admin.get(f"/crm/runs/{run.pk}/")
    assert detail.status_code == 200 and "removed connection" in detail.content.decode()


def test_a_refused_test_shows_our_words_not_the_crms(user_client, workspace, fake_sf):
    admin = user_client(workspace)
    admin.post(
        "/crm/",
        {
            "provider": "salesforce",
            "name": "Prod org",
            "instance_url": fake_sf.instance_url,
            "login_url": fake_sf.instance_url,
            "client_id": "cid",
            "client_secret": "s",
        },
    )
    connection = workspace_connection(workspace)
    fake_sf.login_answers = [(401, "text/html", "<h1>Welcome to intranet host db-7</h1>")]
    page = admin.post(f"/crm/{connection.pk}/test/", follow=True).content.decode()
    assert "Prod org: Salesforce refused the credentials (HTTP 401)" in page
    assert "intranet" not in page


def workspace_connection(workspace):
    from crm_sync.models import CrmConnection

    return CrmConnection.objects.get(workspace=workspace)
