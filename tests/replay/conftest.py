import pytest


@pytest.fixture(autouse=True)
def jobs_inline(settings):
    """Demo mode runs a job in a background thread after the commit; these tests run it in
    the committing thread instead (workers are tested in test_worker_e2e.py)."""
    settings.JOBS_EAGER_MODE = "inline"
