"""A TLS server speaking the subset of the Salesforce REST API revorg uses — OAuth token
endpoint, SOQL queries with `nextRecordsUrl` paging (users, accounts, opportunities,
`COUNT()`), limits, composite sObject collections, Bulk API 2.0 query jobs (create, poll,
CSV results paged by `Sforce-Locator`) — with a trustme CA so simple-salesforce (which always
builds https:// URLs) can reach it. Sessions can be expired and failures (429/503 with
Retry-After) injected."""

import csv
import io
import json
import re
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlparse

import trustme

EXPIRED = [{"errorCode": "INVALID_SESSION_ID", "message": "Session expired or invalid"}]


class FakeSalesforce:
    def __init__(self, *, latency: float = 0.0, page_size: int = 2000):
        self.latency = latency
        self.page_size = page_size
        self.calls: list[list[dict]] = []  # composite PATCH bodies
        self.owners: dict[str, str] = {}
        self.invalid_owner_ids: set[str] = set()
        self.users: list[dict] = []
        # The book: rows as the REST API returns them (Id, Name, OwnerId, SystemModstamp, …)
        self.accounts: list[dict] = []
        self.opportunities: list[dict] = []
        # Leads and contacts (Id, Status, LastActivityDate) an SLA acceptance check reads.
        self.leads: list[dict] = []
        self.contacts: list[dict] = []
        self.bulk_jobs: dict[str, dict] = {}
        self.bulk_polls = 1  # InProgress answers before a job is JobComplete
        self.bulk_results: list[tuple[str, str]] = []  # (job id, locator) of results pages
        # Results pages at these locators answer 503 for as long as they are listed.
        self.broken_locators: set[str] = set()
        self.on_broken = None  # called after each 503 of a broken locator
        self.results_latency = 0.0  # seconds before a results page is answered
        self.soql_fields: list[list[str]] = []  # the SELECT list of each book query
        self.open_deals: dict[str, int] = {}
        self.queries: list[str] = []
        self.token_requests: list[dict] = []
        self.tokens: set[str] = {"static-token", "pat-secret-token"}
        self.failures: list[tuple[int, dict]] = []  # (status, headers) for the next requests
        self.expire_after: int | None = None  # sessions expire after this many API calls
        # (status, content type, body[, headers]) the token endpoint answers instead, in order
        self.login_answers: list[tuple[int, str, str]] = []
        # (status, content type, body) the REST API answers instead of its result, in order
        self.api_answers: list[tuple[int, str, str]] = []
        self.in_flight = threading.Event()  # set while a composite PATCH is being answered
        self.refusal_latency = 0.0  # seconds before a refused session gets its 401
        self.ca = trustme.CA()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status, payload, headers=None):
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def _send_raw(self, status, content_type, text, headers=None):
                body = text.encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def _refused(self) -> bool:
                """Injected failures first, then the session check, then injected answers."""
                if fake.failures:
                    status, headers = fake.failures.pop(0)
                    self._send(status, [{"errorCode": "UNAVAILABLE", "message": "busy"}], headers)
                    return True
                if fake.expire_after is not None:
                    fake.expire_after -= 1
                    if fake.expire_after < 0:
                        fake.expire_sessions()
                        fake.expire_after = None
                token = self.headers.get("Authorization", "").removeprefix("Bearer ")
                if token not in fake.tokens:
                    time.sleep(fake.refusal_latency)
                    self._send(401, EXPIRED)
                    return True
                if fake.api_answers:
                    self._send_raw(*fake.api_answers.pop(0))
                    return True
                return False

            def _send_csv(self, text, headers):
                body = text.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/csv")
                self.send_header("Content-Length", str(len(body)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode()
                if urlparse(self.path).path.endswith("/jobs/query"):
                    if self._refused():
                        return None
                    body = json.loads(raw)
                    fake.queries.append(body["query"])
                    job_id = f"750{len(fake.bulk_jobs) + 1:012d}"
                    fake.bulk_jobs[job_id] = {"query": body["query"], "polls": 0}
                    return self._send(200, {"id": job_id, "state": "UploadComplete"})
                form = {k: v[0] for k, v in parse_qs(raw).items()}
                if urlparse(self.path).path != "/services/oauth2/token":
                    return self._send(404, [{"message": "not found"}])
                fake.token_requests.append(form)
                if fake.login_answers:
                    return self._send_raw(*fake.login_answers.pop(0))
                if form.get("client_secret") == "wrong":
                    return self._send(
                        400,
                        {
                            "error": "invalid_client",
                            "error_description": "invalid client credentials",
                        },
                    )
                token = f"token-{len(fake.token_requests)}"
                fake.tokens.add(token)
                self._send(200, {"access_token": token, "instance_url": fake.instance_url})

            def do_GET(self):
                if self._refused():
                    return None
                url = urlparse(self.path)
                if url.path.endswith("/limits"):
                    return self._send(200, {"DailyApiRequests": {"Max": 15000, "Remaining": 14990}})
                bulk = re.search(r"/jobs/query/([^/]+)(/results)?$", url.path)
                if bulk:
                    job = fake.bulk_jobs.get(bulk.group(1))
                    if job is None:
                        return self._send(404, [{"errorCode": "NOT_FOUND", "message": "no job"}])
                    if not bulk.group(2):
                        job["polls"] += 1
                        done = job["polls"] > fake.bulk_polls
                        state = "JobComplete" if done else "InProgress"
                        return self._send(200, {"id": bulk.group(1), "state": state})
                    params = {k: v[0] for k, v in parse_qs(url.query).items()}
                    locator = params.get("locator", "")
                    fake.bulk_results.append((bulk.group(1), locator))
                    if locator in fake.broken_locators:
                        self._send(503, [{"errorCode": "SERVER_UNAVAILABLE"}])
                        if fake.on_broken:
                            fake.on_broken()
                        return None
                    time.sleep(fake.results_latency)
                    text, next_locator, count = fake.bulk_page(
                        job["query"], int(locator or 0), int(params.get("maxRecords", 50000))
                    )
                    return self._send_csv(
                        text,
                        {"Sforce-Locator": next_locator, "Sforce-NumberOfRecords": str(count)},
                    )
                if "q" not in parse_qs(url.query):  # the next page of an earlier query
                    soql, offset = unquote(url.path.rsplit("/", 1)[1]).split("|")
                    return self._send(200, fake.page(soql, int(offset)))
                soql = parse_qs(url.query)["q"][0]
                fake.queries.append(soql)
                return self._send(200, fake.page(soql, 0))

            def do_PATCH(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if self._refused():
                    return None
                fake.calls.append(body["records"])
                fake.in_flight.set()
                time.sleep(fake.latency)
                fake.in_flight.clear()
                results = []
                for record in body["records"]:
                    if record["OwnerId"] in fake.invalid_owner_ids:
                        results.append(
                            {
                                "id": record["id"],
                                "success": False,
                                "errors": [
                                    {
                                        "statusCode": "INVALID_CROSS_REFERENCE_KEY",
                                        "message": "Owner ID: owner cannot be inactive",
                                    }
                                ],
                            }
                        )
                    else:
                        fake.owners[record["id"]] = record["OwnerId"]
                        results.append({"id": record["id"], "success": True, "errors": []})
                self._send(200, results)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ca.issue_cert("127.0.0.1").configure_cert(context)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def book_rows(self, soql: str) -> tuple[list[str], list[dict]]:
        """The SELECT list and the rows of a SOQL query over Account or Opportunity."""
        match = re.match(r"SELECT (.+?) FROM (Account|Opportunity)\b(.*)$", soql)
        fields = [f.strip() for f in match.group(1).split(",")]
        rows = self.accounts if match.group(2) == "Account" else self.opportunities
        since = re.search(r"SystemModstamp > (\S+)", match.group(3))
        if since:
            rows = [r for r in rows if r["SystemModstamp"][:19] > since.group(1)[:19]]
        if "ORDER BY" in match.group(3):
            rows = sorted(rows, key=lambda r: (r["SystemModstamp"], r["Id"]))
        return fields, rows

    def bulk_page(self, soql: str, offset: int, size: int) -> tuple[str, str, int]:
        fields, rows = self.book_rows(soql)
        chunk = rows[offset : offset + size]
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(fields)
        for row in chunk:
            writer.writerow([_csv_cell(row.get(f)) for f in fields])
        done = offset + size >= len(rows)
        return out.getvalue(), "null" if done else str(offset + size), len(chunk)

    def page(self, soql: str, offset: int) -> dict:
        if re.match(r"SELECT .+ FROM (Account|Opportunity)\b", soql) and "GROUP BY" not in soql:
            fields, rows = self.book_rows(soql)
            if fields == ["COUNT()"]:
                return {"totalSize": len(rows), "done": True, "records": []}
            self.soql_fields.append(fields)
            chunk = [
                {"attributes": {"type": "Account"}, **{f: r.get(f) for f in fields}}
                for r in rows[offset : offset + self.page_size]
            ]
            done = offset + self.page_size >= len(rows)
            result = {"totalSize": len(rows), "done": done, "records": chunk}
            if not done:
                cursor = f"{soql}|{offset + self.page_size}".replace("/", "%2F")
                result["nextRecordsUrl"] = f"/services/data/v62.0/query/{cursor}"
            return result
        by_id = re.match(r"SELECT (.+?) FROM (Lead|Contact) WHERE Id IN \((.*)\)$", soql)
        if by_id:
            fields = [f.strip() for f in by_id.group(1).split(",")]
            wanted = {i.strip().strip("'") for i in by_id.group(3).split(",")}
            rows = self.leads if by_id.group(2) == "Lead" else self.contacts
            records = [{f: r.get(f) for f in fields} for r in rows if r["Id"] in wanted]
            return {"totalSize": len(records), "done": True, "records": records}
        if "FROM Opportunity" in soql:
            records = [{"OwnerId": owner, "n": n} for owner, n in self.open_deals.items()]
            return {"totalSize": len(records), "done": True, "records": records}
        rows = sorted(self.users, key=lambda u: (u["SystemModstamp"], u["Id"]))
        if "SystemModstamp >" in soql:
            since = soql.split("SystemModstamp >", 1)[1].split()[0]
            rows = [u for u in rows if u["SystemModstamp"][:19] > since[:19]]
        chunk = rows[offset : offset + self.page_size]
        done = offset + self.page_size >= len(rows)
        result = {"totalSize": len(rows), "done": done, "records": chunk}
        if not done:
            cursor = f"{soql}|{offset + self.page_size}".replace("/", "%2F")
            result["nextRecordsUrl"] = f"/services/data/v62.0/query/{cursor}"
        return result

    def expire_sessions(self) -> None:
        self.tokens.clear()

    @property
    def instance_url(self) -> str:
        return f"https://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def _csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
