"""What the benches share: real Celery workers on a redis-server of their own, a free port,
and a sibling bench script loaded as a module.

Imported as `benchlib` (a bench runs as `python bench/<name>.py`, so bench/ is on sys.path);
not `bench.x`: bench/ is not a package. Django must be set up before `Workers` is used."""

import importlib.util
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bench_module(name: str):
    """A sibling bench script as a module, or None when it does not exist (bench/book.py's
    and bench/sla.py's names would shadow the apps in an import)."""
    path = ROOT / "bench" / f"{name}.py"
    if not path.exists():
        return None
    spec = importlib.util.spec_from_file_location(f"bench_{name}", path)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(ROOT / "bench"))  # bench/book.py imports bench/match.py
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(ROOT / "bench"))
    return module


class Workers:
    """`count` `celery worker` processes (`--pool solo`, one task at a time each) on a
    redis-server of our own; from now on this process publishes there instead of running
    tasks eagerly. `chunk` sets BOOK_CHUNK_SIZE, `env` adds to the workers' environment."""

    def __init__(
        self, count: int, chunk: int | None = None, *, queues: str = "celery,crm",
        env: dict | None = None, name: str = "bench",
    ):  # fmt: skip
        from revorg.celery import app

        self.count = count
        port = free_port()
        self.redis = subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        _wait_for_port(port)
        self.broker_url = f"redis://127.0.0.1:{port}/0"
        # Persistent database connections, as docker-compose.yml starts the worker: with
        # none, every task starts a Postgres backend that maps shared_buffers afresh (a
        # sixth of the first assignment's Postgres CPU went to page faults and exits).
        worker_env = {
            **os.environ,
            "CONN_MAX_AGE": os.environ.get("CONN_MAX_AGE", "60"),
            "CELERY_BROKER_URL": self.broker_url,
            **(env or {}),
        }
        if chunk is not None:
            worker_env["BOOK_CHUNK_SIZE"] = str(chunk)
        command = [sys.executable, "-m", "celery", "-A", "revorg", "worker", "-Q", queues,
                   "--pool", "solo", "--without-heartbeat", "--without-gossip",
                   "--without-mingle", "-l", "warning"]  # fmt: skip
        self.processes = [
            subprocess.Popen(
                [*command, "-n", f"{name}{i}@%h"],
                cwd=ROOT,
                env=worker_env,
                stdout=subprocess.DEVNULL,
            )
            for i in range(count)
        ]
        app.conf.update(CELERY_TASK_ALWAYS_EAGER=False, CELERY_BROKER_URL=self.broker_url)
        app._after_fork()  # drop connection pools bound to the old broker URL

    def wait_ready(self, timeout: float = 300) -> "Workers":
        """Until every worker answers a ping: their start-up is not what a bench measures."""
        from revorg.celery import app

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(app.control.ping(timeout=1.0) or []) >= self.count:
                return self
        raise SystemExit("the workers did not start")

    def cpu_seconds(self) -> float:
        """User + system CPU the workers have used so far (Linux /proc)."""
        return sum(process_cpu_seconds(process.pid) for process in self.processes)

    def stop(self) -> None:
        for process in [*self.processes, self.redis]:
            process.terminate()
            process.wait(timeout=60)


def process_cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# The server settings a write-heavy bench's figures depend on (printed with them).
POSTGRES_SETTINGS = ("shared_buffers", "max_wal_size", "checkpoint_timeout", "autovacuum")


def postgres_settings() -> str:
    """The Postgres server's settings that bound bulk writes, as one line."""
    from django.db import connection

    with connection.cursor() as cursor:
        values = []
        for name in POSTGRES_SETTINGS:
            cursor.execute(f"SHOW {name}")
            values.append(f"{name}={cursor.fetchone()[0]}")
    return "postgres: " + ", ".join(values)


def process_peak_rss(pid: int) -> int:
    """The process's peak resident memory so far (VmHWM, Linux /proc), in bytes."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def _wait_for_port(port: int) -> None:
    for _ in range(200):
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise SystemExit("redis-server did not start")
