"""A deadlock Postgres resolves by aborting our transaction is the client's cue to retry
(503 with Retry-After), never a 500."""

import threading

import pytest
from django.db import OperationalError, connections, transaction

from revorg.errors import exception_handler

pytestmark = pytest.mark.django_db(transaction=True)


def _real_deadlock() -> OperationalError:
    """Two connections take two advisory locks in opposite orders; Postgres aborts one."""
    barrier, caught = threading.Barrier(2), []

    def worker(first, second):
        try:
            with transaction.atomic(), connections["default"].cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [first])
                barrier.wait()
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [second])
        except OperationalError as exc:
            caught.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=pair) for pair in ((71, 72), (72, 71))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    [error] = caught
    return error


def test_a_deadlock_victim_answers_503_with_retry_after():
    response = exception_handler(_real_deadlock(), {})
    assert response.status_code == 503
    assert response["Retry-After"] == "1"
    assert response.data["code"] == "retry"
