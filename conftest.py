"""Test-wide setup: the suite runs against Postgres (DATABASE_URL) as `make test` sets it."""

import os
import threading

import pytest

os.environ.setdefault("SECRET_KEY", "test-only-secret")
# The local CRM fakes listen on 127.0.0.1; tests of the refusal turn this off.
os.environ.setdefault("CRM_ALLOW_PRIVATE_HOSTS", "1")

# The browser fixtures (chromium, page, shot, login): one Playwright for the whole suite; the
# real Celery processes (broker, celery_processes) of the end-to-end tests.
pytest_plugins = ["tests.browser", "tests.workers"]


def pytest_configure(config):
    """pytest-django read the settings before this file ran: give them the same value."""
    from django.conf import settings

    from revorg.settings import env_bool

    settings.CRM_ALLOW_PRIVATE_HOSTS = env_bool("CRM_ALLOW_PRIVATE_HOSTS", True)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """Before any fixture is torn down: a job a request queued in a background thread of the
    live server (JOBS_EAGER_MODE "thread") is waited for, so the test database is not
    flushed under its queries (the flush and the job deadlock)."""
    from jobs.services import JOB_THREAD_PREFIX

    for thread in threading.enumerate():
        if thread.name.startswith(JOB_THREAD_PREFIX):
            thread.join(60)
    yield
