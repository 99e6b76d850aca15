"""A TLS server speaking the subset of the Salesforce REST API revorg uses — OAuth token
endpoint, SOQL queries with `nextRecordsUrl` paging, limits, composite sObject collections —
with a trustme CA so simple-salesforce (which always builds https:// URLs) can reach it.
Sessions can be expired and failures (429/503 with Retry-After) injected."""

import json
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

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
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

    def page(self, soql: str, offset: int) -> dict:
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
