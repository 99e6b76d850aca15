import pytest


@pytest.fixture
def workers(celery_processes):
    """`workers()` starts one more real worker on the test's broker and database; chunks of 2
    accounts, so a small book spreads over several chunks."""
    celery_processes.env.update(BOOK_CHUNK_SIZE=2)
    return celery_processes.worker
