"""Member and pipeline sync from Salesforce through simple-salesforce against a local TLS
server: OAuth flows, SOQL paging, incremental SystemModstamp sync, expired sessions."""

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from capacities.models import PipelineSnapshot
from crm_sync.models import SyncRun
from crm_sync.services import connection_create, connection_test, sync_start
from members.models import Member


def user(uid, name, stamp, active=True, tz="Europe/Paris"):
    return {
        "Id": uid,
        "Name": name,
        "Email": f"{name.lower().replace(' ', '.')}@acme.example",
        "Title": "AE",
        "IsActive": active,
        "TimeZoneSidKey": tz,
        "SystemModstamp": f"2026-11-0{stamp}T10:00:00.000+0000",
    }


def salesforce(workspace, fake, **credentials):
    return connection_create(
        workspace=workspace,
        provider="salesforce",
        name="Prod org",
        settings={"instance_url": fake.instance_url, "login_url": fake.instance_url},
        credentials=credentials or {"client_id": "cid", "client_secret": "shh"},
    )


def sync(connection, **kwargs) -> SyncRun:
    run = sync_start(connection=connection, **kwargs)  # tasks run eagerly in tests
    run.refresh_from_db()
    return run


def test_first_import_pages_through_users_and_records_open_deals(
    workspace, fake_sf, django_capture_on_commit_callbacks
):
    fake_sf.users = [user(f"005{i}", f"Rep {i}", i) for i in range(1, 6)]
    fake_sf.open_deals = {"0051": 4, "0053": 9}
    connection = salesforce(workspace, fake_sf)
    with django_capture_on_commit_callbacks(execute=True):
        run = sync_start(connection=connection)
    run.refresh_from_db()

    assert run.status == "succeeded", run.errors
    assert run.counts["created"] == 5 and run.counts["processed"] == 5
    assert run.counts["mode"] == "full"
    members = Member.objects.filter(workspace=workspace).order_by("crm_user_id")
    assert [m.crm_user_id for m in members] == ["0051", "0052", "0053", "0054", "0055"]
    assert {m.timezone for m in members} == {"Europe/Paris"}
    assert fake_sf.token_requests[0]["grant_type"] == "client_credentials"
    snapshots = dict(PipelineSnapshot.objects.values_list("member__crm_user_id", "open_deals"))
    assert snapshots == {"0051": 4, "0052": 0, "0053": 9, "0054": 0, "0055": 0}


def test_incremental_resync_updates_changes_deactivates_and_keeps_admin_metadata(
    workspace, fake_sf, django_capture_on_commit_callbacks
):
    fake_sf.users = [user("0051", "Ada Park", 1), user("0052", "Ben Cole", 2)]
    connection = salesforce(workspace, fake_sf)
    with django_capture_on_commit_callbacks(execute=True):
        sync_start(connection=connection)
    ada = Member.objects.get(crm_user_id="0051")
    ada.metadata = {"languages": ["fr", "en"]}
    ada.role = "AE"
    ada.save()

    fake_sf.users = [user("0051", "Ada Park-Lee", 5), user("0052", "Ben Cole", 6, active=False)]
    with django_capture_on_commit_callbacks(execute=True):
        run = sync_start(connection=connection)
    run.refresh_from_db()

    assert run.counts["mode"] == "incremental"
    assert "SystemModstamp > 2026-11-02T10:00:00Z" in fake_sf.queries[-2]
    assert (run.counts["updated"], run.counts["deactivated"]) == (1, 1)
    ada.refresh_from_db()
    assert (ada.name, ada.metadata, ada.role) == ("Ada Park-Lee", {"languages": ["fr", "en"]}, "AE")
    assert not Member.objects.get(crm_user_id="0052").is_active


def test_expired_session_is_refreshed_and_the_call_retried_once(
    workspace, fake_sf, django_capture_on_commit_callbacks
):
    fake_sf.users = [user(f"005{i}", f"Rep {i}", i) for i in range(1, 4)]  # two pages
    connection = salesforce(workspace, fake_sf)
    fake_sf.expire_after = 1  # the session dies after the first page
    with django_capture_on_commit_callbacks(execute=True):
        run = sync_start(connection=connection)
    run.refresh_from_db()
    assert (run.status, run.counts["processed"]) == ("succeeded", 3), run.errors
    assert len(fake_sf.token_requests) == 2  # the login, then one refresh after the 401


def test_jwt_bearer_flow_signs_an_assertion_for_the_user(workspace, fake_sf):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    connection = salesforce(
        workspace, fake_sf, client_id="cid", username="api@acme.example", private_key=pem
    )
    assert connection_test(connection=connection) == {
        "ok": True,
        "detail": "connected; 14990 API requests left today",
    }
    request = fake_sf.token_requests[-1]
    assert request["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    claims = jwt.decode(
        request["assertion"], key.public_key(), algorithms=["RS256"], audience=fake_sf.instance_url
    )
    assert (claims["iss"], claims["sub"]) == ("cid", "api@acme.example")


def test_refused_login_and_outages_fail_the_run_with_the_reason(
    workspace, fake_sf, django_capture_on_commit_callbacks
):
    connection = salesforce(workspace, fake_sf, client_id="cid", client_secret="wrong")
    assert connection_test(connection=connection) == {
        "ok": False,
        "detail": "Salesforce refused the credentials (HTTP 400)",
    }
    good = salesforce(workspace, fake_sf)
    fake_sf.failures = [(503, {})]
    with django_capture_on_commit_callbacks(execute=True):
        run = sync_start(connection=good)
    run.refresh_from_db()
    assert (run.status, run.errors) == ("failed", ["Salesforce 503"])


def test_an_unexpected_error_fails_the_run_instead_of_leaving_it_running(workspace, fake_sf):
    from cryptography.fernet import InvalidToken

    from crm_sync.sync import sync_execute

    connection = salesforce(workspace, fake_sf)
    connection.credentials_encrypted = "not-a-fernet-token"  # e.g. the encryption key changed
    connection.save()
    run = SyncRun.objects.create(workspace=workspace, connection=connection)
    with pytest.raises(InvalidToken):
        sync_execute(run=run)
    run.refresh_from_db()
    assert (run.status, run.errors) == ("failed", ["unexpected error; see the server log"])
