"""Real Celery processes for end-to-end tests (a pytest plugin, loaded by tests/conftest.py).

`broker`: a redis-server of the test's own, so a test can stop and restart it without touching
anyone else's. `celery_processes`: starts `celery worker` (or `beat`) processes on that broker
and the test database, each in its own process group (a test can SIGKILL one mid-job); while
it is in use this process publishes to the broker instead of running tasks eagerly. Tests set
what the processes read from the environment in `celery_processes.env` before starting them.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]
# One process, no remote control: fast to start, and a SIGKILL takes the job down with it.
WORKER_OPTIONS = ("--pool", "solo", "--without-heartbeat", "--without-gossip", "--without-mingle")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Broker:
    """A Redis of our own, so that a test can stop it without touching anyone else's."""

    def __init__(self):
        self.port = free_port()
        self.process = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        for _ in range(100):
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)


class CeleryProcesses:
    """`worker()` / `beat()` / `start(*celery_args)` each start one process and return its
    `Popen`; `env` is added to the environment of the processes started after it is set."""

    def __init__(self, broker: Broker):
        self.broker = broker
        self.env: dict[str, str] = {}
        self.started: list[subprocess.Popen] = []

    def start(self, *args: str) -> subprocess.Popen:
        db = connection.settings_dict
        env = {
            **os.environ,  # read now: a fixture may have set e.g. REQUESTS_CA_BUNDLE
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "CELERY_BROKER_URL": self.broker.url,
            "SECRET_KEY": os.environ.get("SECRET_KEY", "test-only-secret"),
            **{name: str(value) for name, value in self.env.items()},
        }
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "revorg", *args, "-l", "warning"],
            cwd=ROOT,
            env=env,
            start_new_session=True,
        )
        self.started.append(process)
        return process

    def worker(self, queues: str = "celery,crm") -> subprocess.Popen:
        return self.start("worker", "-Q", queues, *WORKER_OPTIONS)

    def beat(self) -> subprocess.Popen:
        return self.start("beat", "--max-interval", "1")

    def stop(self) -> None:
        for process in self.started:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=30)


@pytest.fixture
def broker():
    broker = Broker()
    broker.start()
    yield broker
    if broker.process.poll() is None:
        broker.stop()


@pytest.fixture
def celery_processes(transactional_db, broker):
    from revorg.celery import app

    processes = CeleryProcesses(broker)
    saved = app.conf.task_always_eager, app.conf.broker_url
    # The app reads Django settings under the CELERY_ namespace: override those keys.
    app.conf.update(CELERY_TASK_ALWAYS_EAGER=False, CELERY_BROKER_URL=broker.url)
    app._after_fork()  # drop connection pools bound to the old broker URL
    try:
        yield processes
    finally:
        app.conf.update(CELERY_TASK_ALWAYS_EAGER=saved[0], CELERY_BROKER_URL=saved[1])
        app._after_fork()
        processes.stop()


def wait_for(condition, seconds: float = 120, every: float = 0.1) -> bool:
    """Polls `condition` until it holds (True) or `seconds` pass (False)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return False
