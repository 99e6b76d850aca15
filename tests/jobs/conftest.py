import pytest


@pytest.fixture(autouse=True)
def jobs_inline(settings):
    """Demo mode runs a job in a background thread after the commit; these tests run it in
    the committing thread instead (the thread itself is tested in tests/jobs)."""
    settings.JOBS_EAGER_MODE = "inline"
