"""Where a connection's credentials may be sent: endpoint URLs are http(s) with a host and
nothing else, and hosts on the internal network are refused at save time and again at
connect time, unless CRM_ALLOW_PRIVATE_HOSTS is on (as for the local fakes of this suite)."""

import pytest

from crm_sync.crypto import credentials_encrypt
from crm_sync.models import CrmConnection
from tests.crm_sync.factories import CrmConnectionFactory

CONNECTIONS = "/api/v1/crm-connections/"


def salesforce(**settings):
    return {
        "provider": "salesforce",
        "settings": {"instance_url": "https://acme.my.salesforce.com", **settings},
        "credentials": {"client_id": "cid", "client_secret": "s3cr3t"},
    }


@pytest.fixture
def private_hosts_refused(settings):
    settings.CRM_ALLOW_PRIVATE_HOSTS = False


@pytest.mark.parametrize(
    "url, message",
    [
        ("https://acme.my.salesforce.com/?next=x", "must not carry a query or fragment"),
        ("https://acme.my.salesforce.com/#x", "must not carry a query or fragment"),
        ("https://acme.my.salesforce.com?", "must not carry a query or fragment"),
        ("https://user:pw@acme.my.salesforce.com", "must not carry a user name or password"),
        ("https://", "must be an http(s) URL"),
        ("https://:443/path", "must be an http(s) URL"),
        ("file:///etc/passwd", "must be an http(s) URL"),
        ("gopher://acme.example", "must be an http(s) URL"),
        ("https://acme.example:99999", "must be an http(s) URL"),
        (["https://acme.example"], "must be an http(s) URL"),
    ],
)
def test_endpoint_urls_are_plain_http_urls(api, url, message):
    for key in ("instance_url", "login_url"):
        response = api.post(CONNECTIONS, salesforce(**{key: url}), format="json")
        assert response.status_code == 400
        assert response.json()[f"settings.{key}"] == [message]
    hubspot = {
        "provider": "hubspot",
        "settings": {"base_url": url},
        "credentials": {"access_token": "t"},
    }
    response = api.post(CONNECTIONS, hubspot, format="json")
    assert response.json()["settings.base_url"] == [message]
    assert not CrmConnection.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254",  # AWS/GCP/Azure instance metadata
        "http://[fd00:ec2::254]",  # AWS metadata over IPv6
        "http://100.100.100.200",  # Alibaba metadata
        "https://127.0.0.1:8443",
        "https://localhost",
        "http://[::1]:8000",
        "http://[::ffff:127.0.0.1]",
        "https://10.1.2.3",
        "https://192.168.0.10",
        "https://172.16.5.4",
        "https://0.0.0.0",
        "https://240.0.0.1",  # reserved
        "https://no-such-host.invalid",
    ],
)
def test_internal_hosts_are_refused_when_saved(api, private_hosts_refused, url):
    response = api.post(CONNECTIONS, salesforce(login_url=url), format="json")
    assert response.status_code == 400
    assert "settings.login_url" in response.json(), response.json()
    assert not CrmConnection.objects.exists()


def test_a_public_host_is_accepted(api, private_hosts_refused):
    response = api.post(
        CONNECTIONS, salesforce(instance_url="https://93.184.215.14"), format="json"
    )
    assert response.status_code == 201, response.json()


def test_private_hosts_are_allowed_by_the_setting(api, settings):
    settings.CRM_ALLOW_PRIVATE_HOSTS = True
    response = api.post(CONNECTIONS, salesforce(instance_url="https://10.1.2.3"), format="json")
    assert response.status_code == 201


def test_the_host_is_checked_again_when_connecting(api, workspace, fake_sf, settings):
    """A host that was public when saved may resolve elsewhere later: nothing is sent."""
    connection = CrmConnectionFactory(
        workspace=workspace,
        provider="salesforce",
        settings={"instance_url": fake_sf.instance_url, "login_url": fake_sf.instance_url},
        credentials_encrypted=credentials_encrypt(
            credentials={"client_id": "cid", "client_secret": "s3cr3t"}
        ),
    )
    settings.CRM_ALLOW_PRIVATE_HOSTS = False

    result = api.post(f"{CONNECTIONS}{connection.pk}/test/").json()

    assert result == {
        "ok": False,
        "detail": "Salesforce login URL refused: host resolves to a private, loopback, "
        "link-local or reserved address",
    }
    assert fake_sf.token_requests == []


def test_the_hubspot_host_is_checked_again_when_connecting(api, workspace, httpserver, settings):
    connection = CrmConnectionFactory(
        workspace=workspace, settings={"base_url": httpserver.url_for("").rstrip("/")}
    )
    settings.CRM_ALLOW_PRIVATE_HOSTS = False
    result = api.post(f"{CONNECTIONS}{connection.pk}/test/").json()
    assert result["ok"] is False and result["detail"].startswith("HubSpot API base URL refused")
    assert httpserver.log == []


def test_a_redirect_is_not_followed_with_the_credentials(api, workspace, fake_sf, httpserver):
    """The login host answering 307 to elsewhere must not make us post the secret there."""
    httpserver.expect_request("/services/oauth2/token").respond_with_data("{}")
    connection = CrmConnectionFactory(
        workspace=workspace,
        provider="salesforce",
        settings={"instance_url": fake_sf.instance_url, "login_url": fake_sf.instance_url},
        credentials_encrypted=credentials_encrypt(
            credentials={"client_id": "cid", "client_secret": "s3cr3t"}
        ),
    )
    target = httpserver.url_for("/services/oauth2/token")
    fake_sf.login_answers = [(307, "text/html", "", {"Location": target})]
    result = api.post(f"{CONNECTIONS}{connection.pk}/test/").json()
    assert result == {"ok": False, "detail": "Salesforce login failed (HTTP 307)"}
    assert httpserver.log == []


def test_a_host_that_stops_resolving_delays_write_backs_instead_of_failing_them(
    workspace, settings
):
    from crm_sync.models import WritebackOutbox, WritebackStatus
    from crm_sync.providers import TransientCrmError
    from crm_sync.services import writeback_drain_workspace, writeback_enqueue
    from tests.crm_sync.factories import AllocationFactory

    CrmConnectionFactory(
        workspace=workspace,
        provider="salesforce",
        settings={"instance_url": "https://crm.invalid"},  # DNS trouble, say
        credentials_encrypted=credentials_encrypt(credentials={"access_token": "t"}),
    )
    settings.CRM_ALLOW_PRIVATE_HOSTS = False
    allocation = AllocationFactory(workspace=workspace, record_crm="salesforce")
    writeback_enqueue(
        allocation=allocation,
        provider="salesforce",
        record_type="lead",
        record_id=allocation.record_id,
        owner_crm_user_id="005A",
    )

    with pytest.raises(TransientCrmError):  # the task retries it with backoff
        writeback_drain_workspace(workspace_id=workspace.id)

    row = WritebackOutbox.objects.get()
    assert row.status == WritebackStatus.PENDING
    assert row.last_error == "Salesforce instance URL refused: host does not resolve"
