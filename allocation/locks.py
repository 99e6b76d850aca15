"""The advisory locks every writer of routing state takes (allocations, reassignments, the
book's re-evaluation), in one home so that their order — the deadlock-freedom of them all —
is decided in one place."""

from django.db import connection

from revorg.rawsql import hot_cursor

# The class of the two-key advisory lock on a workspace's book ("book"): shared by every
# writer that takes territory and member keys, exclusive for a book chunk that cannot.
BOOK_LOCK = 0x626F6F6B


def advisory_locks_take(
    *, workspace_id=None, territory_ids=(), member_ids=(), record_key: int | None = None
) -> None:
    """Serialise allocations per territory (strict rotation) and capacity checks per member
    (a rep may sit in several territories), with transaction-scoped advisory locks taken in
    one statement, in the same global order by every transaction (no deadlock): territories
    use the negative key space, members the positive one. No lock spans territories that do
    not share a rep. A record's lock (`record_lock_key`) comes first, before any other lock
    is held: whoever waits for a record holds nothing another writer of it waits for. Then,
    with `workspace_id`, the workspace's book lock in shared mode (`BOOK_LOCK`), before the
    territories and members: a book chunk too large for per-territory keys takes it
    exclusively instead, and so waits for, and holds off, every such writer.
    SQLite (make run) has one writer at a time and needs none."""
    keys = sorted({-int(t) for t in territory_ids} | {int(m) for m in member_ids})
    if connection.vendor != "postgresql" or not (keys or record_key is not None):
        return
    shared = workspace_id if keys else None
    with hot_cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM (SELECT pg_advisory_xact_lock(k) FROM unnest(%s::bigint[]) k "
            "UNION ALL SELECT pg_advisory_xact_lock_shared(%s, %s::int) WHERE %s::int IS NOT NULL "
            "UNION ALL SELECT pg_advisory_xact_lock(k) FROM unnest(%s::bigint[]) k) AS l",
            [[record_key] if record_key is not None else [], BOOK_LOCK, shared, shared, keys],
        )
