"""Model instances from hand-written SQL on hot paths.

`RawQuerySet` resolves columns, converters and the model's init order on every query; on the
allocation path that setup cost more than the queries. A loader does it once per
(model, columns) and then only converts values (e.g. JSON text, SQLite's datetime strings)."""

from functools import cache

from django.db import DEFAULT_DB_ALIAS, connections

try:
    import psycopg
except ImportError:  # SQLite-only installs
    psycopg = None


def placeholders(values) -> str:
    """`%s, %s, …`, one per value, for an `IN (…)` that runs on Postgres and SQLite alike."""
    return ", ".join(["%s"] * len(values))


def pg_array(values) -> str:
    """A Postgres array literal (`{1,NULL}`, `{"a","b"}`) of ints, strings or None, bound as
    one text value and cast in the SQL (`%s::bigint[]`). Django binds parameters client-side,
    and psycopg dumps a Python list element by element: 8 ms for 5,000 ids, against 0.4 ms
    for this string."""
    items = (
        "NULL"
        if value is None
        else str(value)
        if isinstance(value, int)
        else '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
        for value in values
    )
    return "{" + ",".join(items) + "}"


def hot_cursor():
    """A cursor for the allocation hot path's fixed statements. On Postgres they are bound
    server-side and prepared on first use in each connection: planning them cost more than
    running them. The ORM keeps Django's client-side binding, which never prepares. While
    Django logs queries (DEBUG, query-count tests) the plain cursor runs them, so the log
    shows their SQL. A prepared statement keeps its plan until its tables are analyzed again
    (autovacuum does it): plans made while a table was empty stay sequential scans until then."""
    db = connections[DEFAULT_DB_ALIAS]  # the proxy `connection` looks this up per attribute
    if db.vendor != "postgresql" or db.queries_logged:
        return db.cursor()
    db.ensure_connection()
    return db.make_cursor(_PreparingCursor(db.connection))


if psycopg is not None:

    class _PreparingCursor(psycopg.Cursor):
        def execute(self, query, params=None, *, prepare=True, binary=None):
            return super().execute(query, params, prepare=prepare, binary=binary)


def rows_load(model, attnames: tuple[str, ...], rows, *, using: str = "default") -> list:
    """`rows` hold the columns named by `attnames` (e.g. "workspace_id"), in that order; the
    model's other fields are deferred."""
    load = _loader(model, attnames, connections[using].vendor, using)
    return [load(row) for row in rows]


@cache
def _loader(model, attnames: tuple[str, ...], vendor: str, using: str):
    # `vendor` is part of the cache key: converters differ (SQLite returns datetimes as text).
    connection = connections[using]
    table = model._meta.db_table
    converters = []
    for index, name in enumerate(attnames):
        field = model._meta.get_field(name)
        column = field.get_col(table)
        functions = connection.ops.get_db_converters(column) + field.get_db_converters(connection)
        if functions:
            converters.append((index, functions, column))

    def load(row):
        connection = connections[using]  # this thread's
        values = list(row)
        for index, functions, column in converters:
            value = values[index]
            for convert in functions:
                value = convert(value, column, connection)
            values[index] = value
        return model.from_db(using, attnames, values)

    return load
