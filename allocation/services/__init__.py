"""Allocation writes: allocate (decide and persist), reassign, idempotency, persistence.

The names other apps and the API use are importable from here.
"""

from .allocate import AllocationResult, allocation_create, allocation_dry_run
from .idempotency import IDEMPOTENCY_TTL, idempotency_lookup, idempotency_purge, request_hash
from .persistence import lock_record, record_lock_key
from .reassign import (
    allocation_reassign,
    allocation_redistribute,
    allocation_unassign,
    reassign_problem,
)

__all__ = [
    "IDEMPOTENCY_TTL",
    "AllocationResult",
    "allocation_create",
    "allocation_dry_run",
    "allocation_reassign",
    "allocation_redistribute",
    "allocation_unassign",
    "idempotency_lookup",
    "idempotency_purge",
    "lock_record",
    "reassign_problem",
    "record_lock_key",
    "request_hash",
]
