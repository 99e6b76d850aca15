"""CRM providers behind one small interface, using the real client libraries."""

from dataclasses import dataclass

import requests
from simple_salesforce import Salesforce

SALESFORCE_BATCH = 200
HUBSPOT_BATCH = 100
SF_OBJECTS = {
    "lead": "Lead",
    "account": "Account",
    "contact": "Contact",
    "opportunity": "Opportunity",
}
HS_OBJECTS = {"contact": "contacts", "account": "companies", "opportunity": "deals"}


class TransientCrmError(Exception):
    """Retry later; retry_after is the CRM's Retry-After in seconds when it sent one."""

    def __init__(self, message: str, *, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


@dataclass
class OwnerUpdate:
    key: int  # caller's id (outbox row), returned with the result
    record_type: str
    record_id: str
    owner_crm_user_id: str


class SalesforceProvider:
    def __init__(self, *, settings: dict, credentials: dict):
        self.settings = settings
        self.credentials = credentials
        self.calls = 0

    def _client(self) -> Salesforce:
        return Salesforce(
            instance_url=self.settings["instance_url"],
            session_id=self.credentials.get("access_token", ""),
            session=requests.Session(),
            version=self.settings.get("api_version", "59.0"),
        )

    def owners_update(self, *, updates: list[OwnerUpdate]) -> dict[int, str]:
        """Composite sObject collections, 200 records a call. Returns {key: error text or ""}."""
        sf = self._client()
        results: dict[int, str] = {}
        for start in range(0, len(updates), SALESFORCE_BATCH):
            batch = updates[start : start + SALESFORCE_BATCH]
            body = {
                "allOrNone": False,
                "records": [
                    {
                        "attributes": {"type": SF_OBJECTS[u.record_type]},
                        "id": u.record_id,
                        "OwnerId": u.owner_crm_user_id,
                    }
                    for u in batch
                ],
            }
            self.calls += 1
            try:
                response = sf.restful("composite/sobjects", method="PATCH", json=body)
            except Exception as exc:  # simple-salesforce raises its own per-status classes
                status = getattr(exc, "status", None)
                if status in (429, 500, 502, 503, 504) or isinstance(exc, requests.ConnectionError):
                    raise TransientCrmError(f"Salesforce {status}") from None
                raise
            for u, item in zip(batch, response, strict=False):
                errors = item.get("errors") or []
                results[u.key] = (
                    "" if item.get("success") else "; ".join(e.get("message", "") for e in errors)
                )
        return results


class HubSpotProvider:
    def __init__(self, *, settings: dict, credentials: dict):
        self.settings = settings
        self.credentials = credentials
        self.calls = 0

    def owners_update(self, *, updates: list[OwnerUpdate]) -> dict[int, str]:
        """Batch update, 100 records a call, per object type."""
        from hubspot import HubSpot

        client = HubSpot(
            access_token=self.credentials.get("access_token", ""),
            host=self.settings.get("base_url", "https://api.hubapi.com"),
        )
        results: dict[int, str] = {}
        by_type: dict[str, list[OwnerUpdate]] = {}
        for u in updates:
            by_type.setdefault(HS_OBJECTS.get(u.record_type, "contacts"), []).append(u)
        for object_type, items in by_type.items():
            api = getattr(client.crm, object_type).batch_api
            for start in range(0, len(items), HUBSPOT_BATCH):
                batch = items[start : start + HUBSPOT_BATCH]
                body = {
                    "inputs": [
                        {"id": u.record_id, "properties": {"hubspot_owner_id": u.owner_crm_user_id}}
                        for u in batch
                    ]
                }
                self.calls += 1
                try:
                    api.update(body)
                except Exception as exc:  # each sub-package has its own ApiException
                    status = getattr(exc, "status", None)
                    if status == 429 or (status and status >= 500):
                        headers = getattr(exc, "headers", None) or {}
                        retry_after = headers.get("Retry-After")
                        raise TransientCrmError(
                            f"HubSpot {status}",
                            retry_after=float(retry_after) if retry_after else None,
                        ) from None
                    message = getattr(exc, "body", None) or str(exc)
                    for u in batch:
                        results[u.key] = str(message)[:2000]
                    continue
                for u in batch:
                    results[u.key] = ""
        return results


def provider_for(*, connection):
    from .crypto import credentials_decrypt

    cls = SalesforceProvider if connection.provider == "salesforce" else HubSpotProvider
    return cls(
        settings=connection.settings,
        credentials=credentials_decrypt(token=connection.credentials_encrypted),
    )
