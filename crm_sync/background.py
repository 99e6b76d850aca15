"""Demo mode (no broker, tasks eager): write-backs drain in one background thread per
process instead of inside the request that allocated.

Kicked after each allocation's commit, the thread drains every workspace with deliverable
rows, then sleeps until the next kick — or, while rows are left pending (a CRM outage), it
sweeps again every SWEEP_SECONDS, standing in for Celery beat's sweeper. A daemon thread
needs no process manager, dies with `runserver`, and loses nothing: rows live in the
outbox, so a restart just finds them pending again. With a broker this module is unused.
"""

import logging
import threading

from django.db import connections

logger = logging.getLogger(__name__)
SWEEP_SECONDS = 60


class WritebackDrainer:
    def __init__(self):
        self._wake = threading.Event()
        self._start = threading.Lock()
        self._thread: threading.Thread | None = None

    def kick(self) -> None:
        """Drain soon, in the background; returns at once."""
        with self._start:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._loop, name="crm-writeback-drainer", daemon=True
                )
                self._thread.start()
        self._wake.set()

    def _loop(self) -> None:
        timeout = None
        while True:
            self._wake.wait(timeout)
            self._wake.clear()
            timeout = SWEEP_SECONDS if self.drain_all() else None

    def drain_all(self) -> bool:
        """One pass over every workspace with deliverable rows; True when some are left
        pending for a later sweep."""
        from . import services
        from .providers import TransientCrmError

        left = False
        try:
            for workspace_id in services.writeback_sweep():
                try:
                    services.writeback_drain_workspace(workspace_id=workspace_id)
                except TransientCrmError as exc:
                    logger.warning("write-back of workspace %s postponed: %s", workspace_id, exc)
                    left = True
        except Exception:
            logger.exception("background write-back drain failed")
            left = True
        finally:
            connections.close_all()  # this thread's connections only
        return left


writeback_drainer = WritebackDrainer()
