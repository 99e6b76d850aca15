"""Salesforce through the real simple-salesforce: OAuth flows, SOQL paging, Bulk API 2.0
queries for the book, composite sObject collections for write-back."""

import csv
import io
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import jwt
import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceError,
    SalesforceExpiredSession,
    SalesforceOperationError,
)

from .base import (
    HTTP_TIMEOUT,
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

SALESFORCE_BATCH = 200
SALESFORCE_ID = re.compile(r"[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?")
SF_OBJECTS = {
    "lead": "Lead",
    "account": "Account",
    "contact": "Contact",
    "opportunity": "Opportunity",
}
# Salesforce error codes are enum-like (INVALID_CROSS_REFERENCE_KEY): safe to show.
_ERROR_CODE = re.compile(r"^[A-Z][A-Z0-9_]{0,63}$")


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
        logger.warning("Salesforce %s: %s", what, redacted(text, secrets))

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
                f"Salesforce login {status}", retry_after=retry_after(response.headers)
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
                    retry_after=retry_after(self.last_response_headers),
                ) from None
            self._log_remote(f"refused a request (HTTP {exc.status})", _sf_message(exc))
            raise CrmError(f"Salesforce refused the request (HTTP {exc.status})") from None
        except SalesforceOperationError as exc:  # a Bulk API job that failed or was aborted
            self._log_remote("Bulk API job failed", exc)
            raise CrmError("Salesforce's Bulk API query job failed") from None
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

    def record_signals(self, *, record_type: str, record_ids: list[str]) -> dict[str, RecordSignal]:
        """Leads' Status and LastActivityDate (contacts: LastActivityDate), 200 ids a query;
        ids that are not Salesforce ids are never put in a query."""
        sobject = {"lead": "Lead", "contact": "Contact"}.get(record_type)
        ids = [i for i in record_ids if SALESFORCE_ID.fullmatch(i)]
        if sobject is None or not ids:
            return {}
        columns = "Id, Status, LastActivityDate" if sobject == "Lead" else "Id, LastActivityDate"
        signals = {}
        for start in range(0, len(ids), 200):
            quoted = ", ".join(f"'{i}'" for i in ids[start : start + 200])
            soql = f"SELECT {columns} FROM {sobject} WHERE Id IN ({quoted})"
            for row in self._call(lambda sf, soql=soql: sf.query_all(soql)).get("records", []):
                signals[row["Id"]] = RecordSignal(
                    status=str(row.get("Status") or ""),
                    last_activity=str(row.get("LastActivityDate") or ""),
                )
        return signals

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

    # --- the book -----------------------------------------------------------------------------
    def book_page(
        self, *, entity: str, fields: list[str], since: str | None, cursor: dict | None
    ) -> BookPage:
        """SOQL paging for small objects, a Bulk API 2.0 query job (CSV pages, `Sforce-Locator`)
        from `bulk_threshold` records on; both resumable from the cursor they return."""
        sobject = SF_BOOK_OBJECTS[entity]
        columns = list(dict.fromkeys([*SF_BOOK_FIELDS[entity], *fields]))
        where = f" WHERE SystemModstamp > {_soql_stamp(since)}" if since else ""
        if cursor is None:
            total = self._call(lambda sf: sf.query(f"SELECT COUNT() FROM {sobject}{where}"))
            total = int(total.get("totalSize") or 0)
            soql = f"SELECT {', '.join(columns)} FROM {sobject}{where}"
            threshold = int(self.settings.get("bulk_threshold") or SF_BULK_THRESHOLD)
            if total >= threshold:
                job = self._call(lambda sf: _bulk(sf, sobject).create_job("query", soql))
                job_id = job.get("id")
                if not isinstance(job_id, str) or not _BULK_JOB_ID.match(job_id):
                    raise CrmError("Salesforce answered a Bulk API job without an id")
                cursor = {"mode": "bulk", "job_id": job_id, "locator": "", "total": total}
                self._call(
                    lambda sf: _bulk(sf, sobject).wait_for_job(job_id, True, SF_BULK_POLL),
                    expect=str,
                )
            else:
                result = self._call(lambda sf: sf.query(soql + " ORDER BY SystemModstamp, Id"))
                return self._soql_page(entity, result, total)
        if cursor.get("mode") == "soql":
            next_url = cursor["next_url"]
            result = self._call(lambda sf: sf.query_more(next_url, identifier_is_url=True))
            return self._soql_page(entity, result, cursor.get("total"))
        page_size = int(self.settings.get("bulk_page_size") or SF_BULK_PAGE)
        result = self._call(
            lambda sf: _bulk(sf, sobject).get_query_results(
                cursor["job_id"], cursor["locator"], page_size
            )
        )
        rows = csv.DictReader(io.StringIO(result.get("records") or ""))
        records = [_sf_book_record(entity, _csv_values(row)) for row in rows]
        locator = result.get("locator") or ""
        next_cursor = {**cursor, "locator": locator} if locator else None
        return BookPage(records, next_cursor, cursor.get("total"))

    def _soql_page(self, entity: str, result: dict, total) -> BookPage:
        records = [_sf_book_record(entity, row) for row in result.get("records", [])]
        next_cursor = None
        if not result.get("done", True) and result.get("nextRecordsUrl"):
            next_cursor = {"mode": "soql", "next_url": result["nextRecordsUrl"], "total": total}
        return BookPage(records, next_cursor, total)


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


SF_BOOK_OBJECTS = {"account": "Account", "opportunity": "Opportunity"}
SF_BOOK_FIELDS = {
    "account": ["Id", "Name", "OwnerId", "SystemModstamp"],
    "opportunity": [
        "Id",
        "AccountId",
        "Name",
        "OwnerId",
        "StageName",
        "Probability",
        "Amount",
        "CloseDate",
        "IsClosed",
        "IsWon",
        "CreatedDate",
        "SystemModstamp",
    ],
}
SF_BULK_THRESHOLD = 10_000  # records from which a Bulk API 2.0 job beats SOQL paging
SF_BULK_PAGE = 50_000  # records per Bulk API 2.0 results page (its maxRecords)
SF_BULK_POLL = 0.5  # seconds before the first job-state poll
_BULK_JOB_ID = re.compile(r"^[A-Za-z0-9]{1,40}$")


def _bulk(sf: Salesforce, sobject: str):
    """simple-salesforce's Bulk API 2.0 client of `sobject`, on the session's current token."""
    return getattr(sf.bulk2, sobject)._client


def _soql_stamp(stamp: str) -> str:
    """A change stamp as a SOQL datetime literal; anything else is refused, never spliced."""
    parsed = datetime.fromisoformat(stamp.replace("Z", "+00:00").replace("+0000", "+00:00"))
    return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _csv_values(row: dict) -> dict:
    """Bulk API CSV: empty cells are nulls."""
    return {key: (value if value != "" else None) for key, value in row.items()}


def _sf_book_record(entity: str, row: dict) -> BookRecord:
    values = {key: value for key, value in row.items() if key != "attributes"}
    record = BookRecord(
        crm_id=str(values.get("Id") or ""),
        name=str(values.get("Name") or ""),
        owner_crm_id=str(values.get("OwnerId") or ""),
        changed_at=str(values.get("SystemModstamp") or ""),
        values=values,
    )
    if entity == "opportunity":
        record.account_crm_id = str(values.get("AccountId") or "")
        record.deal = {
            "stage": values.get("StageName"),
            "probability": values.get("Probability"),
            "amount": values.get("Amount"),
            "close_date": values.get("CloseDate"),
            "is_closed": values.get("IsClosed"),
            "is_won": values.get("IsWon"),
            "created_date": values.get("CreatedDate"),
        }
    return record
