import os
import signal
import subprocess
import sys

import pytest
from django.db import connection as db

from revorg.celery import app
from tests.crm_sync.test_worker_e2e import ROOT, Broker


@pytest.fixture
def broker():
    broker = Broker()
    broker.start()
    yield broker
    if broker.process.poll() is None:
        broker.stop()


@pytest.fixture
def workers(transactional_db, broker):
    """Real `celery worker` processes on a redis-server of the test's own, reading the test
    database; chunks of 2 accounts, so a small book spreads over several chunks."""
    db_settings = db.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db_settings['USER']}@{db_settings['HOST']}:"
        f"{db_settings['PORT']}/{db_settings['NAME']}",
        "CELERY_BROKER_URL": broker.url,
        "SECRET_KEY": os.environ.get("SECRET_KEY", "test-only-secret"),
        "BOOK_CHUNK_SIZE": "2",
    }
    started = []

    def start():
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "revorg", "worker", "-Q", "celery,crm",
             "--pool", "solo", "--without-heartbeat", "--without-gossip", "--without-mingle",
             "-l", "warning"],
            cwd=ROOT, env=env, start_new_session=True,
        )  # fmt: skip
        started.append(process)
        return process

    saved = app.conf.task_always_eager, app.conf.broker_url
    app.conf.update(CELERY_TASK_ALWAYS_EAGER=False, CELERY_BROKER_URL=broker.url)
    app._after_fork()
    try:
        yield start
    finally:
        app.conf.update(CELERY_TASK_ALWAYS_EAGER=saved[0], CELERY_BROKER_URL=saved[1])
        app._after_fork()
        for process in started:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=30)
