"""Webhook delivery throughput: N pending deliveries drained by Celery workers (2 by default,
on their own Redis) to a local receiver in its own process, which answers 204 and counts
each `webhook-id` (with --verify it checks every signature with `standardwebhooks` too).

Run: `make bench-webhooks` (BENCH_WEBHOOKS_ARGS="--deliveries 5000" for a smaller run), or
DATABASE_URL=... SECRET_KEY=bench .venv/bin/python bench/webhooks.py  on a migrated database;
the bench makes its own workspace and deletes it afterwards."""

import argparse
import multiprocessing
import os
import shutil
import sys
import time
from datetime import timedelta

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "revorg.settings")
os.environ.setdefault("CRM_ALLOW_PRIVATE_HOSTS", "1")  # the receiver listens on 127.0.0.1

import django  # noqa: E402

django.setup()

from benchlib import Workers, free_port, process_cpu_seconds  # noqa: E402
from django.utils import timezone  # noqa: E402

from notifications.models import Event, WebhookDelivery, WebhookEndpoint  # noqa: E402
from notifications.services import webhook_endpoint_create  # noqa: E402
from revorg.models import Workspace  # noqa: E402


def receive(port: int, secret: str, verify: bool, received, duplicates, ready) -> None:
    """The receiver process: a threaded http.server, as a customer's simplest receiver."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from standardwebhooks import Webhook

    webhook = Webhook(secret)
    seen: set[str] = set()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as any production receiver

        def do_POST(self):
            raw = self.rfile.read(int(self.headers.get("content-length") or 0))
            if verify:
                webhook.verify(raw, dict(self.headers), json_parse=False)
            message_id = self.headers["webhook-id"]
            with lock:
                if message_id in seen:
                    duplicates.value += 1
                seen.add(message_id)
                received.value += 1
            self.send_response(204)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 1024  # listen() backlog: the default 5 refuses bursts

    server = Server(("127.0.0.1", port), Handler)
    ready.set()
    server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--deliveries", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--verify", action="store_true", help="receiver verifies signatures")
    args = parser.parse_args()

    workspace = Workspace.objects.create(slug=f"bench-webhooks-{os.getpid()}", name="bench")
    receiver = workers = None
    try:
        port = free_port()
        endpoint, secret = webhook_endpoint_create(
            workspace=workspace, url=f"http://127.0.0.1:{port}/hooks", events=[]
        )
        received = multiprocessing.Value("q", 0)
        duplicates = multiprocessing.Value("q", 0)
        ready = multiprocessing.Event()
        receiver = multiprocessing.Process(
            target=receive,
            args=(port, secret, args.verify, received, duplicates, ready),
            daemon=True,
        )
        receiver.start()
        ready.wait(10)

        now = timezone.now()
        events = Event.objects.bulk_create(
            Event(workspace=workspace, type="allocation.created",
                  data={"id": n, "status": "assigned", "owner": {"id": 1, "name": "Ada"}})
            for n in range(args.deliveries)
        )  # fmt: skip
        WebhookDelivery.objects.bulk_create(
            (
                WebhookDelivery(
                    workspace=workspace,
                    endpoint=endpoint,
                    event=event,
                    next_attempt_at=now,
                    retry_until=now + timedelta(days=1),
                )
                for event in events
            ),
            batch_size=5000,
        )
        workers = Workers(args.workers, queues="celery", name="webhooks").wait_ready()
        from notifications.tasks import webhook_drain

        deliveries = WebhookDelivery.objects.filter(endpoint=endpoint)
        cpu = workers.cpu_seconds(), process_cpu_seconds(receiver.pid)
        start = time.perf_counter()
        for _ in range(args.workers):
            webhook_drain.delay()
        while deliveries.filter(status="succeeded").count() < args.deliveries:
            if time.perf_counter() - start > 600:
                raise SystemExit("not delivered within 10 minutes")
            time.sleep(0.05)
        elapsed = time.perf_counter() - start
        per_delivery = 1e6 / args.deliveries
        worker_cpu = (workers.cpu_seconds() - cpu[0]) * per_delivery
        receiver_cpu = (process_cpu_seconds(receiver.pid) - cpu[1]) * per_delivery
        print(
            f"webhooks: {args.deliveries:,} deliveries in {elapsed:.2f}s = "
            f"{args.deliveries / elapsed:,.0f} deliveries/s with {args.workers} Celery workers "
            f"(batch {os.environ.get('WEBHOOK_BATCH_SIZE', '200')}, "
            f"{os.environ.get('WEBHOOK_CONCURRENCY', '16')} concurrent requests each"
            f"{', receiver verifying signatures' if args.verify else ''}); "
            f"received {received.value:,}, duplicates {duplicates.value}; CPU per delivery: "
            f"workers {worker_cpu:,.0f} µs, receiver {receiver_cpu:,.0f} µs; "
            f"load average {', '.join(f'{x:.1f}' for x in os.getloadavg())}"
        )
    finally:
        if workers is not None:
            workers.stop()
        if receiver is not None:
            receiver.terminate()
        WebhookEndpoint.objects.filter(workspace=workspace).delete()
        Event.objects.filter(workspace=workspace).delete()
        workspace.delete()


if __name__ == "__main__":
    if not shutil.which("redis-server"):
        raise SystemExit("bench-webhooks needs redis-server on PATH")
    main()
