"""The CRM connections API: settings validated per provider, credentials encrypted and
never shown, test and sync actions, the sync-run log; and the sync_crm command."""

import logging
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django_celery_beat.models import PeriodicTask

from crm_sync.crypto import credentials_decrypt
from crm_sync.models import CrmConnection
from members.models import Member
from revorg.models import AuditEntry
from tests.crm_sync.test_sync_salesforce import user

CONNECTIONS = "/api/v1/crm-connections/"
RUNS = "/api/v1/sync-runs/"
SECRET = "s3cr3t-client-value"


def payload(fake, **overrides):
    body = {
        "provider": "salesforce",
        "name": "Prod org",
        "settings": {
            "instance_url": fake.instance_url,
            "login_url": fake.instance_url,
            "api_version": "62.0",
            "sync_interval_minutes": 30,
        },
        "credentials": {"client_id": "cid", "client_secret": SECRET},
    }
    body.update(overrides)
    return body


def test_credentials_are_write_only_encrypted_and_never_logged(api, workspace, fake_sf, caplog):
    caplog.set_level(logging.DEBUG)
    created = api.post(CONNECTIONS, payload(fake_sf), format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["credentials_set"] is True and "credentials" not in body
    assert body["status"] == "never_synced"
    connection = CrmConnection.objects.get(pk=body["id"])
    assert SECRET not in connection.credentials_encrypted
    assert credentials_decrypt(token=connection.credentials_encrypted)["client_secret"] == SECRET
    listed = (
        api.get(CONNECTIONS).content.decode()
        + api.get(f"{CONNECTIONS}{body['id']}/").content.decode()
    )
    assert SECRET not in listed
    assert api.post(f"{CONNECTIONS}{body['id']}/test/").json()["ok"] is True
    assert SECRET not in str([e.before for e in AuditEntry.objects.all()]) + str(
        [e.after for e in AuditEntry.objects.all()]
    )
    assert SECRET not in caplog.text


def test_a_connection_gets_an_editable_sync_schedule(api, workspace, fake_sf):
    pk = api.post(CONNECTIONS, payload(fake_sf), format="json").json()["id"]
    task = PeriodicTask.objects.get(name=f"crm-sync-connection-{pk}")
    assert (task.interval.every, task.enabled) == (30, True)
    settings = {**payload(fake_sf)["settings"], "sync_interval_minutes": 15}
    api.patch(f"{CONNECTIONS}{pk}/", {"settings": settings, "is_active": False}, format="json")
    task.refresh_from_db()
    assert (task.interval.every, task.enabled) == (15, False)
    api.delete(f"{CONNECTIONS}{pk}/")
    assert not PeriodicTask.objects.filter(name=f"crm-sync-connection-{pk}").exists()


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"provider": "pipedrive"}, "provider"),
        ({"settings": {"login_url": "https://x"}}, "settings.instance_url"),
        ({"settings": {"instance_url": "ftp://x"}}, "settings.instance_url"),
        ({"settings": {"instance_url": "https://x", "colour": "red"}}, "settings.colour"),
        ({"settings": {"instance_url": "https://x", "api_version": 62}}, "settings.api_version"),
        (
            {"settings": {"instance_url": "https://x", "sync_interval_minutes": 1}},
            "settings.sync_interval_minutes",
        ),
        ({"credentials": {"client_id": "cid"}}, "credentials"),
        ({"credentials": "token"}, "credentials"),
        ({"credentials": None}, "credentials"),
    ],
)
def test_bad_settings_and_credentials_are_400_with_the_field(api, fake_sf, overrides, field):
    response = api.post(CONNECTIONS, payload(fake_sf, **overrides), format="json")
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert not CrmConnection.objects.exists()


def test_hubspot_needs_a_private_app_token(api):
    body = {"provider": "hubspot", "settings": {}, "credentials": {"client_id": "x"}}
    response = api.post(CONNECTIONS, body, format="json")
    assert response.status_code == 400 and "access_token" in str(response.json()["credentials"])


def test_test_action_reports_an_unreachable_crm_without_500(api):
    body = {
        "provider": "hubspot",
        "settings": {"base_url": "http://127.0.0.1:9"},
        "credentials": {"access_token": "pat"},
    }
    pk = api.post(CONNECTIONS, body, format="json").json()["id"]
    result = api.post(f"{CONNECTIONS}{pk}/test/").json()
    assert result["ok"] is False and "HubSpot" in result["detail"]


def test_sync_action_returns_a_run_that_the_log_shows(
    api, workspace, fake_sf, django_capture_on_commit_callbacks
):
    fake_sf.users = [user("0051", "Ada Park", 1)]
    pk = api.post(CONNECTIONS, payload(fake_sf), format="json").json()["id"]
    with django_capture_on_commit_callbacks(execute=True):
        started = api.post(f"{CONNECTIONS}{pk}/sync/")
    assert started.status_code == 202
    assert started.json()["status"] == "queued"
    run = api.get(f"{RUNS}{started.json()['id']}/").json()
    assert (run["status"], run["stats"]["created"], run["error"]) == ("succeeded", 1, None)
    assert api.get(RUNS, {"connection": pk, "status": "succeeded"}).json()["count"] == 1
    assert api.get(f"{CONNECTIONS}{pk}/").json()["status"] == "succeeded"
    assert api.delete(f"{RUNS}{run['id']}/").status_code == 405


def test_read_only_keys_cannot_connect_or_sync(make_client, workspace, fake_sf):
    reader = make_client(workspace, scopes="read")
    assert reader.post(CONNECTIONS, payload(fake_sf), format="json").status_code == 403
    assert reader.get(RUNS).status_code == 200


def test_sync_crm_command_prints_progress_and_counts(api, workspace, fake_sf):
    fake_sf.users = [user(f"005{i}", f"Rep {i}", i) for i in range(1, 4)]
    api.post(CONNECTIONS, payload(fake_sf), format="json")
    out = StringIO()
    call_command("sync_crm", workspace.slug, stdout=out)
    assert "2/3 users" in out.getvalue() and "3/3 users" in out.getvalue()
    assert "succeeded" in out.getvalue() and "created 3" in out.getvalue()
    assert Member.objects.filter(workspace=workspace).count() == 3
    with pytest.raises(CommandError):
        call_command("sync_crm", "no-such-workspace")
