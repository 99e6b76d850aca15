import pytest


@pytest.fixture(autouse=True)
def jobs_inline(settings):
    """The activation job runs in the committing thread (tests/jobs covers the thread)."""
    settings.JOBS_EAGER_MODE = "inline"
