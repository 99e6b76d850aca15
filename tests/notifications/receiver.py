"""A real webhook receiver for tests: a threaded http.server on 127.0.0.1 that verifies each
delivery with the `standardwebhooks` library, as a customer's receiver would, and records what
it accepted. It can be stopped and started again on the same port (a receiver that is down),
or told to answer with an error status."""

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook, WebhookVerificationError


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Receiver:
    def __init__(self, secret: str | None = None, port: int | None = None):
        self.secret = secret
        self.port = port or free_port()
        self.accepted: list[dict] = []  # {"id", "timestamp", "payload"}
        self.refused: list[str] = []  # why a delivery failed verification
        self.status = 204
        self.body = b""
        self._server = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/revorg"

    def start(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("content-length") or 0))
                try:
                    payload = Webhook(receiver.secret).verify(raw, dict(self.headers))
                except WebhookVerificationError as exc:
                    with receiver._lock:
                        receiver.refused.append(str(exc))
                    self.send_response(401)
                    self.end_headers()
                    return
                if 200 <= receiver.status < 300:
                    with receiver._lock:
                        receiver.accepted.append(
                            {
                                "id": self.headers["webhook-id"],
                                "timestamp": self.headers["webhook-timestamp"],
                                "payload": payload,
                            }
                        )
                self.send_response(receiver.status)
                self.send_header("content-length", str(len(receiver.body)))
                self.end_headers()
                self.wfile.write(receiver.body)

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def ids(self) -> list[str]:
        with self._lock:
            return [a["id"] for a in self.accepted]

    def payloads(self) -> list[dict]:
        with self._lock:
            return [a["payload"] for a in self.accepted]


def body_of(response) -> dict:
    return json.loads(response.content)
