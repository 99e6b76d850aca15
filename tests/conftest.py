import pytest
from rest_framework.test import APIClient

from tests.crm_sync.fake_salesforce import FakeSalesforce
from tests.factories import MembershipFactory, WorkspaceFactory, api_key_for


class KeyClient(APIClient):
    """An API client that authenticates with a workspace API key, as plays do."""

    def __init__(self, raw_key: str, workspace, **kwargs):
        super().__init__(**kwargs)
        self.workspace = workspace
        self.raw_key = raw_key
        self.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")


@pytest.fixture
def workspace(db):
    return WorkspaceFactory()


@pytest.fixture
def other_workspace(db):
    return WorkspaceFactory()


@pytest.fixture
def make_client(db):
    def make(workspace, scopes="read,write,allocate"):
        return KeyClient(api_key_for(workspace, scopes=scopes), workspace)

    return make


@pytest.fixture
def api(make_client, workspace):
    """A client with every scope in `workspace`."""
    return make_client(workspace)


@pytest.fixture
def other_api(make_client, other_workspace):
    """A client with every scope in another workspace."""
    return make_client(other_workspace)


@pytest.fixture
def user_client(db):
    """A browser-session client for a user with the given role in a workspace; `member` is
    the member they are (the root of a rep's or manager's scope), `territory` a director's."""

    def make(workspace, role="admin", member=None, territory=None):
        membership = MembershipFactory(
            workspace=workspace, role=role, member=member, territory=territory
        )
        client = APIClient()
        client.force_login(membership.user)
        client.user = membership.user
        return client

    return make


@pytest.fixture
def fake_sf(monkeypatch, tmp_path):
    """A local TLS Salesforce; requests trusts its CA through REQUESTS_CA_BUNDLE."""
    with FakeSalesforce(page_size=2) as fake:
        bundle = tmp_path / "ca.pem"
        fake.ca.cert_pem.write_to_path(str(bundle))
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
        yield fake
