"""CRM providers behind one small interface, using the real client libraries:

- `users_pages(since)`: pages of `CrmUser` (incremental when the CRM can filter by change),
- `open_deal_counts()`: open deals per CRM owner id,
- `owners_update(updates)`: owners written in batches.
"""

import logging
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import jwt
import requests
import urllib3
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceError, SalesforceExpiredSession

from .endpoints import EndpointRefused, endpoint_check

logger = logging.getLogger(__name__)
SALESFORCE_BATCH = 200
HUBSPOT_BATCH = 100
SF_OBJECTS = {
    "lead": "Lead",
    "account": "Account",
    "contact": "Contact",
    "opportunity": "Opportunity",
}
HS_OBJECTS = {"contact": "contacts", "account": "companies", "opportunity": "deals"}
TRANSIENT_STATUSES = {429, 500, 502, 503, 504}
HTTP_TIMEOUT = 30


class TransientCrmError(Exception):
    """Retry later; retry_after is the CRM's Retry-After in seconds when it sent one."""

    def __init__(self, message: str, *, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class CrmError(Exception):
    """A permanent failure (refused request, malformed answer): retrying will not help.
    Messages are our own words, safe to show: what the CRM said goes to the server log only."""


class CrmAuthError(CrmError):
    """The CRM refused our credentials: nothing works until an admin reconnects, so
    write-backs wait (pending) instead of failing."""


# Salesforce error codes are enum-like (INVALID_CROSS_REFERENCE_KEY): safe to show.
_ERROR_CODE = re.compile(r"^[A-Z][A-Z0-9_]{0,63}$")


def _redacted(text, secrets) -> str:
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


def _retry_after(headers) -> float | None:
    value = (headers or {}).get("Retry-After")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


class _NoRedirectSession(requests.Session):
    """A redirect could carry our credentials or requests to a host nobody checked: the 3xx
    answer is returned as it is (and refused like any other unexpected status)."""

    def get_redirect_target(self, resp):
        return None


class SalesforceProvider:
    """simple-salesforce on a session we own: the OAuth token comes from `login_url` (client
    credentials, JWT bearer or refresh token) or is given (`access_token`); an expired
    session is refreshed once and the call retried."""

    incremental = True  # users can be listed by change time (SystemModstamp)

    def __init__(self, *, settings: dict, credentials: dict):
        self.settings = settings
        self.credentials = credentials
        self.calls = 0
        self.session = _NoRedirectSession()
        self.session.hooks["response"].append(self._remember)
        self.last_response_headers: dict = {}
        self._sf: Salesforce | None = None
        self._token_issued = ""

    def _remember(self, response, *args, **kwargs):
        self.last_response_headers = response.headers

    def _log_remote(self, what: str, text) -> None:
        secrets = [*self.credentials.values(), self._token_issued]
        logger.warning("Salesforce %s: %s", what, _redacted(text, secrets))

    # --- authentication ---------------------------------------------------------------------
    def _can_refresh(self) -> bool:
        c = self.credentials
        return bool(c.get("client_id") and (c.get("client_secret") or c.get("private_key")))

    def _token(self) -> tuple[str, str]:
        """(access token, instance URL) from the OAuth token endpoint."""
        c = self.credentials
        login_url = self.settings.get("login_url") or "https://login.salesforce.com"
        _endpoint(login_url, "Salesforce login URL")
        if c.get("private_key") and c.get("username"):
            assertion = jwt.encode(
                {
                    "iss": c["client_id"],
                    "sub": c["username"],
                    "aud": login_url,
                    "exp": int(time.time()) + 180,
                },
                c["private_key"],
                algorithm="RS256",
            )
            data = {
                "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                "assertion": assertion,
            }
        elif c.get("refresh_token"):
            data = {"grant_type": "refresh_token", "refresh_token": c["refresh_token"]}
            data.update(client_id=c.get("client_id", ""), client_secret=c.get("client_secret", ""))
        else:
            data = {
                "grant_type": "client_credentials",
                "client_id": c.get("client_id", ""),
                "client_secret": c.get("client_secret", ""),
            }
        try:
            response = self.session.post(
                f"{login_url.rstrip('/')}/services/oauth2/token", data=data, timeout=HTTP_TIMEOUT
            )
        except requests.RequestException as exc:
            raise TransientCrmError(f"Salesforce login unreachable: {type(exc).__name__}") from None
        status = response.status_code
        if status in TRANSIENT_STATUSES:
            raise TransientCrmError(
                f"Salesforce login {status}", retry_after=_retry_after(response.headers)
            )
        if status != 200:
            self._log_remote(f"login refused (HTTP {status})", _oauth_error(response))
            if status in (400, 401, 403):  # OAuth answers invalid_client/invalid_grant with 400
                raise CrmAuthError(f"Salesforce refused the credentials (HTTP {status})")
            raise CrmError(f"Salesforce login failed (HTTP {status})")
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            self._log_remote("login answered something other than a JSON object", response.text)
            raise CrmError("Salesforce login answered something other than a JSON object")
        token = body.get("access_token")
        if not isinstance(token, str) or not token:
            self._log_remote("login answered without an access token", response.text)
            raise CrmError("Salesforce login answered without an access token")
        self._token_issued = token
        instance_url = self.settings.get("instance_url") or body.get("instance_url")
        if not isinstance(instance_url, str) or not instance_url:
            raise CrmError("Salesforce login answered without an instance URL")
        return token, instance_url

    def _client(self, *, fresh: bool = False) -> Salesforce:
        if self._sf is None or fresh:
            if self.credentials.get("access_token") and not fresh:
                token = self.credentials["access_token"]
                instance_url = self.settings.get("instance_url") or ""
            else:
                token, instance_url = self._token()
            if not instance_url:
                raise CrmError("Salesforce connection has no instance URL")
            _endpoint(instance_url, "Salesforce instance URL")
            self._sf = Salesforce(
                instance_url=instance_url,
                session_id=token,
                session=self.session,
                version=self.settings.get("api_version", "62.0"),
            )
        return self._sf

    def _call(self, operation, *, expect: type = dict):
        """One API call: an expired session is refreshed and retried once; 429/5xx and
        network errors are transient; a refused session needs reauthentication; anything
        else, including an answer that is not the JSON `expect`ed, is permanent."""
        self.calls += 1
        try:
            try:
                result = operation(self._client())
            except SalesforceExpiredSession:
                if not self._can_refresh():
                    raise CrmAuthError(
                        "Salesforce refused the session (HTTP 401); reconnect"
                    ) from None
                self.calls += 1
                result = operation(self._client(fresh=True))
        except SalesforceExpiredSession:
            raise CrmAuthError("Salesforce refused the refreshed session (HTTP 401)") from None
        except SalesforceError as exc:
            if exc.status in TRANSIENT_STATUSES:
                raise TransientCrmError(
                    f"Salesforce {exc.status}",
                    retry_after=_retry_after(self.last_response_headers),
                ) from None
            self._log_remote(f"refused a request (HTTP {exc.status})", _sf_message(exc))
            raise CrmError(f"Salesforce refused the request (HTTP {exc.status})") from None
        except requests.exceptions.JSONDecodeError:
            raise CrmError("Salesforce answered something other than JSON") from None
        except requests.RequestException as exc:
            raise TransientCrmError(f"Salesforce unreachable: {type(exc).__name__}") from None
        if not isinstance(result, expect):
            self._log_remote("answered in an unexpected shape", result)
            raise CrmError("Salesforce answered in an unexpected shape")
        return result

    # --- the interface ----------------------------------------------------------------------
    def test(self) -> str:
        limits = self._call(lambda sf: sf.restful("limits"))
        daily = limits.get("DailyApiRequests")
        remaining = daily.get("Remaining") if isinstance(daily, dict) else None
        if isinstance(remaining, int) and not isinstance(remaining, bool):
            return f"connected; {remaining} API requests left today"
        return "connected"

    def users_pages(self, *, since: datetime | None = None) -> Iterator[tuple[list[CrmUser], int]]:
        """Standard users, oldest change first: (page, total) per SOQL page of up to 2,000."""
        soql = (
            "SELECT Id, Name, Email, Title, IsActive, TimeZoneSidKey, SystemModstamp FROM User "
            "WHERE UserType = 'Standard'"
        )
        if since is not None:
            soql += f" AND SystemModstamp > {since.strftime('%Y-%m-%dT%H:%M:%SZ')}"
        soql += " ORDER BY SystemModstamp, Id"
        result = self._call(lambda sf: sf.query(soql))
        while True:
            yield [_sf_user(row) for row in result.get("records", [])], result.get("totalSize", 0)
            if result.get("done", True) or not result.get("nextRecordsUrl"):
                return
            next_url = result["nextRecordsUrl"]
            result = self._call(lambda sf, url=next_url: sf.query_more(url, identifier_is_url=True))

    def open_deal_counts(self) -> dict[str, int]:
        soql = (
            "SELECT OwnerId, COUNT(Id) n FROM Opportunity WHERE IsClosed = false GROUP BY OwnerId"
        )
        rows = self._call(lambda sf: sf.query_all(soql)).get("records", [])
        return {row["OwnerId"]: int(row["n"]) for row in rows}

    def owners_update(self, *, updates: list[OwnerUpdate]) -> dict[int, str]:
        """Composite sObject collections, 200 records a call. Returns {key: error text or ""}."""
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
            try:
                response = self._call(
                    lambda sf, body=body: sf.restful(
                        "composite/sobjects", method="PATCH", json=body
                    ),
                    expect=list,
                )
            except CrmAuthError:
                raise  # not the rows' fault: they wait for the reconnection
            except CrmError as exc:  # the whole call was refused: every row fails with it
                results.update({u.key: str(exc) for u in batch})
                continue
            for u, item in zip(batch, response, strict=False):
                results[u.key] = self._record_outcome(u, item)
        return results

    def _record_outcome(self, update: OwnerUpdate, item) -> str:
        """ "" when written, else our words with Salesforce's error code; its message goes to
        the server log."""
        if isinstance(item, dict) and item.get("success") is True:
            return ""
        errors = item.get("errors") if isinstance(item, dict) else None
        errors = errors if isinstance(errors, list) else []
        codes = [e.get("statusCode") for e in errors if isinstance(e, dict)]
        codes = [c for c in codes if isinstance(c, str) and _ERROR_CODE.match(c)]
        self._log_remote(f"refused the owner of {update.record_id}", errors or item)
        if codes:
            return f"Salesforce refused the owner update ({', '.join(codes)})"
        return "Salesforce refused the owner update"


def _sf_user(row: dict) -> CrmUser:
    changed = row.get("SystemModstamp")
    return CrmUser(
        crm_user_id=row["Id"],
        name=row.get("Name") or row["Id"],
        email=row.get("Email") or "",
        title=row.get("Title") or "",
        is_active=bool(row.get("IsActive", True)),
        timezone=row.get("TimeZoneSidKey") or "",
        changed_at=datetime.fromisoformat(changed.replace("Z", "+00:00").replace("+0000", "+00:00"))
        if changed
        else None,
    )


def _sf_message(exc: SalesforceError) -> str:
    content = exc.content
    if isinstance(content, list) and content and isinstance(content[0], dict):
        return content[0].get("message", "")[:500]
    return str(content)[:500]


def _oauth_error(response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:500]
    if not isinstance(body, dict):
        return str(body)[:500]
    return str(body.get("error_description") or body.get("error") or "")


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
                    retry_after=_retry_after(getattr(exc, "headers", None)),
                ) from None
            logger.warning(
                "HubSpot refused a request (HTTP %s): %s",
                status,
                _redacted(_hubspot_message(exc), self.credentials.values()),
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
        import json

        return json.loads(body).get("message", "")[:500]
    except (ValueError, AttributeError):
        return str(body)[:500]


def _endpoint(url: str, label: str) -> None:
    """The connect-time check of a URL the credentials go to (see crm_sync.endpoints)."""
    try:
        endpoint_check(url, label=label)
    except EndpointRefused as exc:
        logger.warning("CRM endpoint refused at connect time: %s", exc)
        raise (TransientCrmError if exc.transient else CrmError)(str(exc)) from None


def provider_for(*, connection):
    from .crypto import credentials_decrypt

    cls = SalesforceProvider if connection.provider == "salesforce" else HubSpotProvider
    return cls(
        settings=connection.settings,
        credentials=credentials_decrypt(token=connection.credentials_encrypted),
    )
