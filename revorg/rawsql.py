"""Model instances from hand-written SQL on hot paths.

`RawQuerySet` resolves columns, converters and the model's init order on every query; on the
allocation path that setup cost more than the queries. A loader does it once per
(model, columns) and then only converts values (e.g. JSON text, SQLite's datetime strings)."""

from functools import cache

from django.db import connections


def placeholders(values) -> str:
    """`%s, %s, …`, one per value, for an `IN (…)` that runs on Postgres and SQLite alike."""
    return ", ".join(["%s"] * len(values))


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
