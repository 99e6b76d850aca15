"""Which class speaks to which CRM: a connection names its provider, and a name nobody
registered is refused instead of silently falling back to another CRM."""

from .base import CrmError, CrmProvider
from .hubspot import HubSpotProvider
from .salesforce import SalesforceProvider

PROVIDERS: dict[str, type[CrmProvider]] = {
    "salesforce": SalesforceProvider,
    "hubspot": HubSpotProvider,
}


class UnknownProvider(CrmError):
    """The connection names a CRM revorg has no module for."""


def provider_class(name: str) -> type[CrmProvider]:
    try:
        return PROVIDERS[name]
    except KeyError:
        raise UnknownProvider(f"unknown CRM provider {name!r}") from None


def provider_for(*, connection) -> CrmProvider:
    """The provider of a saved connection, with its credentials decrypted."""
    from ..crypto import credentials_decrypt

    cls = provider_class(connection.provider)
    return cls(
        settings=connection.settings,
        credentials=credentials_decrypt(token=connection.credentials_encrypted),
    )
