"""The provider registry: one module per CRM behind the `CrmProvider` protocol; a connection
naming a CRM revorg has no module for is refused in our words, never sent to another CRM."""

import pytest

from crm_sync.providers import (
    PROVIDERS,
    HubSpotProvider,
    SalesforceProvider,
    UnknownProvider,
    provider_class,
    provider_for,
)
from tests.crm_sync.factories import CrmConnectionFactory

pytestmark = pytest.mark.django_db


def test_each_crm_has_its_module_and_every_module_speaks_the_whole_interface():
    assert {"salesforce": SalesforceProvider, "hubspot": HubSpotProvider} == PROVIDERS
    for cls in PROVIDERS.values():
        for method in ("test", "users_pages", "open_deal_counts", "owners_update", "book_page"):
            assert callable(getattr(cls, method)), (cls, method)
    assert provider_class("hubspot") is HubSpotProvider


def test_an_unknown_provider_is_refused(api, workspace):
    connection = CrmConnectionFactory(workspace=workspace, provider="pipedrive")
    with pytest.raises(UnknownProvider, match="unknown CRM provider 'pipedrive'"):
        provider_for(connection=connection)
    response = api.post(f"/api/v1/crm-connections/{connection.pk}/test/")
    assert response.json() == {"ok": False, "detail": "unknown CRM provider 'pipedrive'"}
