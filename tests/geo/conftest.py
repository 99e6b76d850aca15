import pytest


@pytest.fixture(autouse=True)
def jobs_inline(settings):
    """The locate job runs in the committing thread (the background thread and the Celery
    worker are tested in tests/jobs and tests/geo/test_worker_e2e.py)."""
    settings.JOBS_EAGER_MODE = "inline"
