"""HubSpot through the real hubspot-api-client: owners, deals search, batch owner updates,
and companies/deals for the book (search by `hs_lastmodifieddate`, associations)."""

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import urllib3

from .base import (
    TRANSIENT_STATUSES,
    BookPage,
    BookRecord,
    CrmAuthError,
    CrmError,
    CrmUser,
    OwnerUpdate,
    RecordSignal,
    TransientCrmError,
    logger,
    redacted,
    retry_after,
)
from .base import endpoint_guard as _endpoint

HUBSPOT_BATCH = 100
HS_OBJECTS = {"contact": "contacts", "account": "companies", "opportunity": "deals"}


class HubSpotProvider:
    """hubspot-api-client with a private app token; `base_url` overrides the API host."""

    incremental = False  # owners cannot be filtered by change time: always the full list

    def __init__(self, *, settings: dict, credentials: dict):
        self.settings = settings
        self.credentials = credentials
        self.calls = 0
        self._endpoint_checked = False

    def _client(self):
        from hubspot import HubSpot

        host = self.settings.get("base_url") or "https://api.hubapi.com"
        if not self._endpoint_checked:
            _endpoint(host, "HubSpot API base URL")
            self._endpoint_checked = True
        return HubSpot(
            access_token=self.credentials.get("access_token", ""),
            host=host,
            # urllib3's default retries (429/503 Retry-After), but no redirect is followed.
            retry=urllib3.Retry(3, redirect=False),
        )

    def _call(self, operation):
        self.calls += 1
        try:
            return operation(self._client())
        except Exception as exc:  # each sub-package has its own ApiException: check .status
            status = getattr(exc, "status", None)
            if status is None and isinstance(exc, ValueError | TypeError):
                logger.warning("HubSpot answered in an unexpected shape: %s", type(exc).__name__)
                raise CrmError("HubSpot answered in an unexpected shape") from None
            if status is None and not isinstance(exc, OSError | urllib3.exceptions.HTTPError):
                raise
            if status is None or status in TRANSIENT_STATUSES:
                raise TransientCrmError(
                    f"HubSpot {status or 'unreachable'}",
                    retry_after=retry_after(getattr(exc, "headers", None)),
                ) from None
            logger.warning(
                "HubSpot refused a request (HTTP %s): %s",
                status,
                redacted(_hubspot_message(exc), self.credentials.values()),
            )
            if status == 401:
                raise CrmAuthError("HubSpot refused the access token (HTTP 401)") from None
            raise CrmError(f"HubSpot refused the request (HTTP {status})") from None

    def test(self) -> str:
        page = self._call(lambda client: client.crm.owners.owners_api.get_page(limit=1))
        if not isinstance(getattr(page, "results", None), list):  # e.g. an HTML page
            logger.warning("HubSpot owners answered in an unexpected shape: %s", type(page))
            raise CrmError("HubSpot answered in an unexpected shape")
        return "connected"

    def users_pages(self, *, since: datetime | None = None) -> Iterator[tuple[list[CrmUser], int]]:
        """Every owner (HubSpot cannot filter owners by change time), 100 a page; archived
        owners come back inactive."""
        for archived in (False, True):
            after = None
            while True:
                page = self._call(
                    lambda client, after=after, archived=archived: (
                        client.crm.owners.owners_api.get_page(
                            limit=100, after=after, archived=archived
                        )
                    )
                )
                users = [_hs_user(owner, active=not archived) for owner in page.results or []]
                yield users, 0
                after = page.paging.next.after if page.paging and page.paging.next else None
                if not after:
                    break

    def open_deal_counts(self) -> dict[str, int]:
        """Open deals per owner, from the deals search API (100 a page)."""
        counts: dict[str, int] = {}
        after = 0
        while True:
            request = {
                "filterGroups": [
                    {
                        "filters": [
                            {"propertyName": "hs_is_closed", "operator": "EQ", "value": "false"}
                        ]
                    }
                ],
                "properties": ["hubspot_owner_id"],
                "limit": 100,
                "after": after,
            }
            page = self._call(
                lambda client, request=request: client.crm.deals.search_api.do_search(
                    public_object_search_request=request
                )
            )
            for deal in page.results or []:
                owner = (deal.properties or {}).get("hubspot_owner_id")
                if owner:
                    counts[owner] = counts.get(owner, 0) + 1
            if not (page.paging and page.paging.next and page.paging.next.after):
                return counts
            after = page.paging.next.after

    def record_signals(self, *, record_type: str, record_ids: list[str]) -> dict[str, RecordSignal]:
        """Contacts' (a lead is a contact in HubSpot) lead status and last sales activity,
        100 a batch read."""
        if record_type not in ("lead", "contact") or not record_ids:
            return {}
        signals = {}
        for start in range(0, len(record_ids), HUBSPOT_BATCH):
            body = {
                "inputs": [{"id": i} for i in record_ids[start : start + HUBSPOT_BATCH]],
                "properties": ["hs_lead_status", "hs_last_sales_activity_timestamp"],
            }
            page = self._call(
                lambda client, body=body: client.crm.contacts.batch_api.read(
                    batch_read_input_simple_public_object_id=body
                )
            )
            for item in page.results or []:
                properties = item.properties or {}
                signals[str(item.id)] = RecordSignal(
                    status=properties.get("hs_lead_status") or "",
                    last_activity=properties.get("hs_last_sales_activity_timestamp") or "",
                )
        return signals

    def owners_update(self, *, updates: list[OwnerUpdate]) -> dict[int, str]:
        """Batch update, 100 records a call, per object type."""
        results: dict[int, str] = {}
        by_type: dict[str, list[OwnerUpdate]] = {}
        for u in updates:
            by_type.setdefault(HS_OBJECTS.get(u.record_type, "contacts"), []).append(u)
        for object_type, items in by_type.items():
            for start in range(0, len(items), HUBSPOT_BATCH):
                batch = items[start : start + HUBSPOT_BATCH]
                body = {
                    "inputs": [
                        {"id": u.record_id, "properties": {"hubspot_owner_id": u.owner_crm_user_id}}
                        for u in batch
                    ]
                }
                try:
                    self._call(
                        lambda client, body=body, object_type=object_type: getattr(
                            client.crm, object_type
                        ).batch_api.update(body)
                    )
                except CrmAuthError:
                    raise  # not the rows' fault: they wait for the reconnection
                except CrmError as exc:
                    results.update({u.key: str(exc) for u in batch})
                    continue
                results.update({u.key: "" for u in batch})
        return results

    # --- the book -----------------------------------------------------------------------------
    def book_page(
        self, *, entity: str, fields: list[str], since: str | None, cursor: dict | None
    ) -> BookPage:
        """Companies or deals, 100 a page: a full sync lists them (deals with their company
        associations); an increment searches by `hs_lastmodifieddate` and reads the deals'
        associations in one batch call."""
        object_type = HS_BOOK_OBJECTS[entity]
        properties = list(dict.fromkeys([*HS_BOOK_FIELDS[entity], *fields]))
        after = (cursor or {}).get("after")
        api = lambda client: getattr(client.crm, object_type)  # noqa: E731
        if since is None:
            associations = ["companies"] if entity == "opportunity" else None
            page = self._call(
                lambda client: api(client).basic_api.get_page(
                    limit=HUBSPOT_BATCH,
                    after=after,
                    properties=properties,
                    associations=associations,
                    archived=False,
                )
            )
            companies = {
                str(item.id): _associated_ids(getattr(item, "associations", None))
                for item in page.results or []
            }
            # The listing has no total: one search of a single record counts them (for the
            # progress bar), on the first page only; later pages carry it in the cursor.
            if cursor is None:
                counted = self._call(
                    lambda client: api(client).search_api.do_search(
                        public_object_search_request={"limit": 1, "properties": ["hs_object_id"]}
                    )
                )
                total = getattr(counted, "total", None)
            else:
                total = cursor.get("total")
        else:
            request = {
                "filterGroups": [
                    {
                        "filters": [
                            {
                                "propertyName": "hs_lastmodifieddate",
                                "operator": "GT",
                                "value": str(_epoch_ms(since)),
                            }
                        ]
                    }
                ],
                "sorts": [{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}],
                "properties": properties,
                "limit": HUBSPOT_BATCH,
                "after": after or 0,
            }
            page = self._call(
                lambda client: api(client).search_api.do_search(
                    public_object_search_request=request
                )
            )
            total = getattr(page, "total", None)
            companies = {}
            if entity == "opportunity" and page.results:
                companies = self._deal_companies([str(item.id) for item in page.results])
        if not isinstance(getattr(page, "results", None), list):
            raise CrmError("HubSpot answered in an unexpected shape")
        records = [
            _hs_book_record(entity, item, companies.get(str(item.id), [])) for item in page.results
        ]
        next_after = page.paging.next.after if page.paging and page.paging.next else None
        next_cursor = {"after": next_after, "total": total} if next_after else None
        return BookPage(records, next_cursor, total)

    def _deal_companies(self, deal_ids: list[str]) -> dict[str, list[str]]:
        """Associations v4, deals → companies, for one page of deals."""
        batch = self._call(
            lambda client: client.crm.associations.v4.batch_api.get_page(
                from_object_type="deals",
                to_object_type="companies",
                batch_input_public_fetch_associations_batch_request={
                    "inputs": [{"id": deal_id} for deal_id in deal_ids]
                },
            )
        )
        found: dict[str, list[str]] = {}
        for item in batch.results or []:
            found[str(item._from.id)] = [str(to.to_object_id) for to in item.to or []]
        return found


def _hs_user(owner, *, active: bool) -> CrmUser:
    name = " ".join(part for part in (owner.first_name, owner.last_name) if part)
    return CrmUser(
        crm_user_id=str(owner.id),
        name=name or owner.email or str(owner.id),
        email=owner.email or "",
        title="",
        is_active=active and not getattr(owner, "archived", False),
        changed_at=getattr(owner, "updated_at", None),
    )


def _hubspot_message(exc) -> str:
    body = getattr(exc, "body", None) or ""
    try:
        return json.loads(body).get("message", "")[:500]
    except (ValueError, AttributeError):
        return str(body)[:500]


HS_BOOK_OBJECTS = {"account": "companies", "opportunity": "deals"}
HS_BOOK_FIELDS = {
    "account": ["name", "hubspot_owner_id", "hs_lastmodifieddate"],
    "opportunity": [
        "dealname",
        "hubspot_owner_id",
        "dealstage",
        "hs_deal_stage_probability",
        "amount",
        "closedate",
        "hs_is_closed",
        "hs_is_closed_won",
        "createdate",
        "hs_lastmodifieddate",
    ],
}


def _epoch_ms(stamp: str) -> int:
    parsed = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp() * 1000)


def _associated_ids(associations) -> list[str]:
    companies = (associations or {}).get("companies")
    return [str(a.id) for a in getattr(companies, "results", None) or []]


def _hs_book_record(entity: str, item, company_ids: list[str]) -> BookRecord:
    values = dict(item.properties or {})
    name_key = "dealname" if entity == "opportunity" else "name"
    record = BookRecord(
        crm_id=str(item.id),
        name=str(values.get(name_key) or ""),
        owner_crm_id=str(values.get("hubspot_owner_id") or ""),
        changed_at=str(values.get("hs_lastmodifieddate") or ""),
        values=values,
    )
    if entity == "opportunity":
        record.account_crm_id = company_ids[0] if company_ids else ""
        probability = values.get("hs_deal_stage_probability")
        record.deal = {
            "stage": values.get("dealstage"),
            # HubSpot keeps the probability as a fraction (0.4 for 40 %)
            "probability": _fraction_percent(probability),
            "amount": values.get("amount"),
            "close_date": values.get("closedate"),
            "is_closed": values.get("hs_is_closed"),
            "is_won": values.get("hs_is_closed_won"),
            "created_date": values.get("createdate"),
        }
    return record


def _fraction_percent(value):
    try:
        return round(float(value) * 100) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None
