"""A TLS server speaking the composite sObject collections subset of the Salesforce REST API,
with a trustme CA so simple-salesforce (which always builds https:// URLs) can reach it."""

import json
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import trustme


class FakeSalesforce:
    def __init__(self, *, latency: float = 0.0):
        self.latency = latency
        self.calls: list[list[dict]] = []
        self.owners: dict[str, str] = {}
        self.invalid_owner_ids: set[str] = set()
        self.ca = trustme.CA()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_PATCH(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.calls.append(body["records"])
                time.sleep(fake.latency)
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
                payload = json.dumps(results).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ca.issue_cert("127.0.0.1").configure_cert(context)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def instance_url(self) -> str:
        return f"https://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
