"""Test-wide setup: the suite runs against Postgres (DATABASE_URL) as `make test` sets it."""

import os

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
