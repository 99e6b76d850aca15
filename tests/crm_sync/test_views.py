"""The CRM pages (admins): connections, test results in our words, the sync-run log."""

import pytest

from crm_sync.models import SyncRun
from jobs.models import Job
from revorg.models import AuditEntry
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


def test_field_mapping_form_saves_defaults_custom_fields_and_refuses_bad_names(
    user_client, workspace
):
    admin = user_client(workspace)
    connection = CrmConnectionFactory(workspace=workspace, provider="hubspot")
    page = admin.get("/crm/").content.decode()
    assert 'value="numberofemployees"' in page  # the HubSpot defaults are shown

    bad = admin.post(
        f"/crm/{connection.pk}/field-mapping/",
        {"rule_field": ["country", "segment"], "crm_field": ["country", "seg ment;"]},
    )
    assert bad.status_code == 400
    assert "segment: the name of a company property" in bad.content.decode()
    connection.refresh_from_db()
    assert "field_mapping" not in connection.settings  # nothing half-saved

    saved = admin.post(
        f"/crm/{connection.pk}/field-mapping/",
        {
            "rule_field": ["country", "city", "segment", ""],
            "crm_field": ["hq_country", "", "seg", ""],
        },
    )
    assert saved.status_code == 302
    connection.refresh_from_db()
    mapping = connection.settings["field_mapping"]
    assert (mapping["country"], mapping["city"], mapping["segment"]) == ("hq_country", "", "seg")
    assert mapping["state"] == ""  # a default whose row was not sent is dropped
    assert AuditEntry.objects.filter(action="update", object_id=str(connection.pk)).count() == 1


def test_sync_book_button_opens_the_job_and_refuses_a_second_while_one_waits(
    user_client, workspace
):
    admin = user_client(workspace)
    connection = CrmConnectionFactory(workspace=workspace)
    first = admin.post(f"/crm/{connection.pk}/sync-book/")
    job = Job.objects.get(handler="crm_sync.book_sync")
    assert first.status_code == 302 and first.url == f"/jobs/{job.pk}/"
    second = admin.post(f"/crm/{connection.pk}/sync-book/", follow=True)
    assert "already queued or running" in second.content.decode()
    assert Job.objects.filter(handler="crm_sync.book_sync").count() == 1
    viewer = user_client(workspace, role="manager")
    assert viewer.post(f"/crm/{connection.pk}/sync-book/").status_code == 403
