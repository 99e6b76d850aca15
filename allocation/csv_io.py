"""Allocation history as CSV: streamed straight from a server-side cursor, so an export of any
size holds one chunk of rows in memory at a time."""

from collections.abc import Iterator

from django.db.models import QuerySet

EXPORT_COLUMNS = [
    "id",
    "created_at",
    "status",
    "current",
    "record_type",
    "record_id",
    "record_crm",
    "owner_id",
    "owner_name",
    "owner_email",
    "territory_id",
    "territory_name",
    "play_run_id",
    "play_run_url",
    "reassigned_from",
    "reason",
    "actor",
    "writeback_status",
    "record_fields",
]
# What each column reads, in order: plain values, no model instances.
_SOURCES = (
    "id",
    "created_at",
    "status",
    "is_current",
    "record_type",
    "record_id",
    "record_crm",
    "owner_id",
    "owner__name",
    "owner__email",
    "territory_id",
    "territory__name",
    "play_run_id",
    "play_run_url",
    "reassigned_from_id",
    "reason",
    "actor_label",
    "writeback__status",
    "record_fields",
)
CHUNK_ROWS = 2000


def allocation_export_rows(*, queryset: QuerySet) -> Iterator[list]:
    """Newest first, as the history lists them; a record with nothing to write back says
    `none`."""
    rows = queryset.order_by("-created_at", "-id").values_list(*_SOURCES)
    for values in rows.iterator(chunk_size=CHUNK_ROWS):
        row = list(values)
        row[1] = row[1].isoformat()
        row[17] = row[17] or "none"
        yield row
