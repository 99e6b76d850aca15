"""What every CRM provider shares: the errors callers handle, the data types the interface
speaks, the `CrmProvider` protocol, and helpers for our-words messages and redacted logs."""

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from ..endpoints import EndpointRefused, endpoint_check

logger = logging.getLogger(__name__)
TRANSIENT_STATUSES = {429, 500, 502, 503, 504}
HTTP_TIMEOUT = 30


class TransientCrmError(Exception):
    """Retry later; retry_after is the CRM's Retry-After in seconds when it sent one.
    Messages are our own words (`public`): a job may show them."""

    public = True

    def __init__(self, message: str, *, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class CrmError(Exception):
    """A permanent failure (refused request, malformed answer): retrying will not help.
    Messages are our own words, safe to show: what the CRM said goes to the server log only."""

    public = True


class CrmAuthError(CrmError):
    """The CRM refused our credentials: nothing works until an admin reconnects, so
    write-backs wait (pending) instead of failing."""


def redacted(text, secrets) -> str:
    """Remote text for the server log: credentials and tokens blanked, length bounded."""
    text = str(text)
    for secret in secrets:
        if isinstance(secret, str) and len(secret) >= 4:
            text = text.replace(secret, "[redacted]")
    return text[:1000]


@dataclass
class OwnerUpdate:
    key: int  # caller's id (outbox row), returned with the result
    record_type: str
    record_id: str
    owner_crm_user_id: str


@dataclass
class CrmUser:
    crm_user_id: str
    name: str
    email: str
    title: str
    is_active: bool
    timezone: str = ""
    changed_at: datetime | None = None


def retry_after(headers) -> float | None:
    value = (headers or {}).get("Retry-After")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


@dataclass
class RecordSignal:
    """What a CRM says about a record's handling: its status (leads) and its latest
    activity (an ISO date or date-time, "" when none): an owner's acceptance, seen by sync."""

    status: str = ""
    last_activity: str = ""


@dataclass
class BookRecord:
    """One CRM account or opportunity as read: the standard fields every CRM has, and
    `values` (CRM field name -> value) for the fields the connection's mapping asked for."""

    crm_id: str
    name: str
    owner_crm_id: str
    changed_at: str  # the CRM's change stamp (ISO 8601): the next increment starts after it
    values: dict
    account_crm_id: str = ""  # opportunities: their account (HubSpot: the associated company)
    deal: dict = field(default_factory=dict)  # opportunities: stage, amount, close_date, …


@dataclass
class BookPage:
    """A page of book records and the cursor that fetches the page after it (None: last)."""

    records: list[BookRecord]
    next_cursor: dict | None  # JSON-safe: kept on the job chunk to resume from
    total: int | None = None  # records the whole query returns, when the CRM says


class CrmProvider(Protocol):
    """The interface every CRM module implements; `crm_sync.providers.registry` maps a
    connection's provider name to its class."""

    incremental: bool
    calls: int

    def __init__(self, *, settings: dict, credentials: dict) -> None: ...

    def test(self) -> str: ...

    def users_pages(
        self, *, since: datetime | None = None
    ) -> Iterator[tuple[list[CrmUser], int]]: ...

    def open_deal_counts(self) -> dict[str, int]: ...

    def owners_update(self, *, updates: list[OwnerUpdate]) -> dict[int, str]: ...

    def record_signals(self, *, record_type: str, record_ids: list[str]) -> dict[str, RecordSignal]:
        """Status and latest activity of these leads or contacts, by record id (records the
        CRM does not know are absent)."""
        ...

    def book_page(
        self, *, entity: str, fields: list[str], since: str | None, cursor: dict | None
    ) -> BookPage:
        """One page of `entity` ("account" or "opportunity") changed after `since` (all when
        None); `cursor` is the previous page's `next_cursor` (None: the first page)."""
        ...


def endpoint_guard(url: str, label: str) -> None:
    """The connect-time check of a URL the credentials go to (see crm_sync.endpoints)."""
    try:
        endpoint_check(url, label=label)
    except EndpointRefused as exc:
        logger.warning("CRM endpoint refused at connect time: %s", exc)
        raise (TransientCrmError if exc.transient else CrmError)(str(exc)) from None
