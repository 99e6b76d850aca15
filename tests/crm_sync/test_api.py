"""The CRM connections API: settings validated per provider, credentials encrypted and
never shown, test and sync actions, the sync-run log; and the sync_crm command."""

import logging
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django_celery_beat.models import PeriodicTask

from crm_sync.crypto import credentials_decrypt, credentials_encrypt
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


def test_changing_an_endpoint_url_needs_the_credentials_again(api, workspace, fake_sf, httpserver):
    """Otherwise a write-scope key could point login_url at its own host and have `test`
    send it the stored client_secret."""
    pk = api.post(CONNECTIONS, payload(fake_sf), format="json").json()["id"]
    elsewhere = httpserver.url_for("").rstrip("/")
    for key in ("login_url", "instance_url"):
        settings = {**payload(fake_sf)["settings"], key: elsewhere}
        moved = api.patch(f"{CONNECTIONS}{pk}/", {"settings": settings}, format="json")
        assert moved.status_code == 400 and "credentials" in moved.json(), moved.json()
    dropped = {k: v for k, v in payload(fake_sf)["settings"].items() if k != "login_url"}
    assert api.patch(f"{CONNECTIONS}{pk}/", {"settings": dropped}, format="json").status_code == 400
    assert CrmConnection.objects.get(pk=pk).settings["login_url"] == fake_sf.instance_url

    assert api.post(f"{CONNECTIONS}{pk}/test/").json()["ok"] is True
    assert httpserver.log == []  # the secret never left for the other host
    renamed = api.patch(f"{CONNECTIONS}{pk}/", {"name": "Renamed"}, format="json")
    assert renamed.status_code == 200  # nothing else needs the credentials
    settings = {**payload(fake_sf)["settings"], "sync_interval_minutes": 45}
    assert (
        api.patch(f"{CONNECTIONS}{pk}/", {"settings": settings}, format="json").status_code == 200
    )

    settings = {**payload(fake_sf)["settings"], "login_url": elsewhere}
    credentials = {"client_id": "cid", "client_secret": "new-secret"}
    moved = api.patch(
        f"{CONNECTIONS}{pk}/", {"settings": settings, "credentials": credentials}, format="json"
    )
    assert moved.status_code == 200, moved.json()
    assert CrmConnection.objects.get(pk=pk).settings["login_url"] == elsewhere


def test_test_and_sync_show_our_words_never_the_crms_text(
    api, workspace, fake_sf, caplog, django_capture_on_commit_callbacks
):
    remote = '{"error": "invalid_client", "error_description": "banner from 10.0.0.7 for cid/%s"}'
    pk = api.post(CONNECTIONS, payload(fake_sf), format="json").json()["id"]
    fake_sf.login_answers = [(401, "application/json", remote % SECRET)] * 2
    caplog.set_level(logging.WARNING)

    tested = api.post(f"{CONNECTIONS}{pk}/test/").json()
    with django_capture_on_commit_callbacks(execute=True):
        started = api.post(f"{CONNECTIONS}{pk}/sync/").json()
    run = api.get(f"{RUNS}{started['id']}/").json()

    expected = "Salesforce refused the credentials (HTTP 401)"
    assert tested == {"ok": False, "detail": expected}
    assert (run["status"], run["error"]) == ("failed", expected)
    assert "banner from 10.0.0.7" in caplog.text  # the full text is in the server log…
    assert SECRET not in caplog.text  # …with the secret blanked


@pytest.mark.parametrize(
    "answer, detail",
    [
        ((200, "application/json", '{"token_type": "Bearer"}'), "without an access token"),
        ((200, "application/json", '{"access_token": ""}'), "without an access token"),
        ((200, "text/html", "<html><body>Maintenance</body></html>"), "other than a JSON object"),
        ((200, "text/plain", "ok"), "other than a JSON object"),
        ((200, "application/json", '["access_token"]'), "other than a JSON object"),
        ((404, "text/html", "<html>Not Found</html>"), "login failed (HTTP 404)"),
        ((302, "text/html", ""), "login failed (HTTP 302)"),
    ],
)
def test_test_action_explains_a_malformed_login_answer_without_500(api, fake_sf, answer, detail):
    pk = api.post(CONNECTIONS, payload(fake_sf), format="json").json()["id"]
    fake_sf.login_answers = [answer]
    response = api.post(f"{CONNECTIONS}{pk}/test/")
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is False and detail in body["detail"], body
    assert body["detail"].startswith("Salesforce")


@pytest.mark.parametrize(
    "answer, detail",
    [
        ((200, "text/html", "<html>Please log in</html>"), "other than JSON"),
        ((200, "application/json", '["limits"]'), "unexpected shape"),
        ((200, "application/json", '{"DailyApiRequests": "many"}'), None),
    ],
)
def test_test_action_explains_a_malformed_api_answer_without_500(api, fake_sf, answer, detail):
    pk = api.post(CONNECTIONS, payload(fake_sf), format="json").json()["id"]
    fake_sf.api_answers = [answer]
    body = api.post(f"{CONNECTIONS}{pk}/test/").json()
    if detail is None:  # an odd but harmless answer: connected, without the count
        assert body == {"ok": True, "detail": "connected"}
    else:
        assert body["ok"] is False and detail in body["detail"], body


def test_test_action_without_an_instance_url_anywhere_is_explained(api, workspace, fake_sf):
    from tests.crm_sync.factories import CrmConnectionFactory

    connection = CrmConnectionFactory(
        workspace=workspace,
        provider="salesforce",
        settings={"login_url": fake_sf.instance_url},  # saved before instance_url was required
        credentials_encrypted=credentials_encrypt(
            credentials={"client_id": "c", "client_secret": "s"}
        ),
    )
    fake_sf.login_answers = [(200, "application/json", '{"access_token": "t"}')]
    body = api.post(f"{CONNECTIONS}{connection.pk}/test/").json()
    assert body == {"ok": False, "detail": "Salesforce login answered without an instance URL"}


def test_hubspot_test_with_an_html_answer_is_explained(api, httpserver):
    httpserver.expect_request("/crm/v3/owners/").respond_with_data(
        "<html>gateway</html>", status=200, content_type="text/html"
    )
    body = {
        "provider": "hubspot",
        "settings": {"base_url": httpserver.url_for("").rstrip("/")},
        "credentials": {"access_token": "pat"},
    }
    pk = api.post(CONNECTIONS, body, format="json").json()["id"]
    response = api.post(f"{CONNECTIONS}{pk}/test/")
    assert response.status_code == 200
    assert response.json() == {"ok": False, "detail": "HubSpot answered in an unexpected shape"}


def test_test_action_with_unreadable_stored_credentials_is_explained(api, workspace, fake_sf):
    pk = api.post(CONNECTIONS, payload(fake_sf), format="json").json()["id"]
    CrmConnection.objects.filter(pk=pk).update(credentials_encrypted="not-a-fernet-token")
    response = api.post(f"{CONNECTIONS}{pk}/test/")
    assert response.status_code == 200
    assert response.json() == {
        "ok": False,
        "detail": "The stored credentials cannot be read; save them again",
    }
