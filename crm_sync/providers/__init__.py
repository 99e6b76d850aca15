"""CRM providers behind one small interface (`base.CrmProvider`), one module per CRM, using
the real client libraries; `registry` picks the module for a connection:

- `users_pages(since)`: pages of `CrmUser` (incremental when the CRM can filter by change),
- `open_deal_counts()`: open deals per CRM owner id,
- `owners_update(updates)`: owners written in batches,
- `record_signals(record_type, record_ids)`: leads'/contacts' status and latest activity
  (an owner's acceptance, seen by sync),
- `book_page(entity, fields, since, cursor)`: one page of accounts or opportunities and the
  cursor of the next, so an import can resume from its last page.
"""

from .base import (
    BookPage,
    BookRecord,
    CrmAuthError,
    CrmError,
    CrmProvider,
    CrmUser,
    OwnerUpdate,
    RecordSignal,
    TransientCrmError,
)
from .hubspot import HubSpotProvider
from .registry import PROVIDERS, UnknownProvider, provider_class, provider_for
from .salesforce import SalesforceProvider

__all__ = [
    "PROVIDERS",
    "BookPage",
    "BookRecord",
    "CrmAuthError",
    "CrmError",
    "CrmProvider",
    "CrmUser",
    "HubSpotProvider",
    "OwnerUpdate",
    "RecordSignal",
    "SalesforceProvider",
    "TransientCrmError",
    "UnknownProvider",
    "provider_class",
    "provider_for",
]
