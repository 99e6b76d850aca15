"""Foreign keys of a bulk write checked once per key instead of once per row.

Postgres checks a foreign key row by row: every inserted history entry and every account a
re-evaluation moves queues a deferred trigger per constraint, and each runs a lookup that
locks the row it names (`FOR KEY SHARE`). A first assignment of a million accounts writes
about five such checks per account against a few thousand distinct members and territories:
a quarter of its Postgres time. `referenced_keys_checked` does what those triggers do, once
per distinct key: it locks the referenced rows `FOR KEY SHARE` (so none can be deleted or
re-keyed before the transaction ends, exactly as the row checks would hold them) and
refuses the write with an `IntegrityError` if one is missing; the statements inside then run
with the row triggers off (`session_replication_role = replica`, what `pg_restore` and
logical replication use to skip checks they make redundant).

Only the statements inside the block skip their triggers, and only where the database role
may change that setting (a superuser, or `GRANT SET ON PARAMETER session_replication_role`);
otherwise the block is a no-op and the constraints' own triggers check every row, as
before. The constraints stay in the schema for every other write."""

from contextlib import contextmanager

from django.db import IntegrityError, connection

from .rawsql import pg_array


def _may_skip_row_triggers(cursor) -> bool:
    if connection.pg_version >= 150000:
        cursor.execute("SELECT has_parameter_privilege('session_replication_role', 'SET')")
    else:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
    row = cursor.fetchone()
    return bool(row and row[0])


@contextmanager
def referenced_keys_checked(cursor, referenced: dict):
    """`referenced`: model → the ids the block's writes put in foreign keys to it (None
    ignored). Every write inside must reference only those ids through the tables' foreign
    keys; Postgres only. On an error inside, the transaction rolls back and with it the
    setting (`SET LOCAL`)."""
    wanted = {}
    for model, ids in referenced.items():
        if keys := sorted({pk for pk in ids if pk is not None}):
            wanted[model] = keys
    # Nothing referenced (a chunk that only brings evaluation keys up to date): no key is
    # written, so no row check would run either.
    if not wanted or not _may_skip_row_triggers(cursor):
        yield
        return
    for model, ids in wanted.items():
        table = model._meta.db_table
        cursor.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM {table} WHERE id = ANY(%s::bigint[]) "
            "ORDER BY id FOR KEY SHARE) locked",
            [pg_array(ids)],
        )
        (found,) = cursor.fetchone()
        if found != len(ids):
            raise IntegrityError(
                f"{len(ids) - found} of the {table} rows this write references do not exist"
            )
    cursor.execute("SET LOCAL session_replication_role = replica")
    yield
    cursor.execute("SET LOCAL session_replication_role = origin")
