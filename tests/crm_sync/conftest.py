import pytest

from tests.crm_sync.fake_salesforce import FakeSalesforce


@pytest.fixture
def fake_sf(monkeypatch, tmp_path):
    """A local TLS Salesforce; requests trusts its CA through REQUESTS_CA_BUNDLE."""
    with FakeSalesforce(page_size=2) as fake:
        bundle = tmp_path / "ca.pem"
        fake.ca.cert_pem.write_to_path(str(bundle))
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
        yield fake
