"""Idempotency keys: a key used in the last 24 h replays the first response."""

import hashlib
import json
from datetime import timedelta

from django.db import (
    connection,
)
from django.utils import timezone

from revorg.errors import ConflictError
from revorg.rawsql import hot_cursor

from ..models import IdempotencyRecord

IDEMPOTENCY_TTL = timedelta(hours=24)


def request_hash(payload: dict) -> str:
    body = {k: v for k, v in payload.items() if k not in ("idempotency_key",)}
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def idempotency_lookup(*, workspace, key: str, body_hash: str) -> dict | None:
    """The stored response for a key used in the last 24 h; 409 when the body differs."""
    record = IdempotencyRecord.objects.filter(
        workspace=workspace, key=key, created_at__gte=timezone.now() - IDEMPOTENCY_TTL
    ).first()
    if record is None:
        return None
    if record.request_hash != body_hash:
        raise ConflictError("This idempotency key was used with a different request body.")
    return record.response


class _IdempotencyKeyTaken(Exception):
    """A live row holds the key: a concurrent request with it committed first."""


def _idempotency_claim(*, workspace, key: str, body_hash: str, response: dict) -> None:
    """Stores the first response to `key` in one statement that also replaces a row older
    than 24 h: an expired key starts afresh, with no unique violation, and of concurrent
    requests with it exactly one claims it (the others wait for its row, see it live and
    raise `_IdempotencyKeyTaken`, so they roll back and replay it)."""
    now = timezone.now()
    table = IdempotencyRecord._meta.db_table
    quote = connection.ops.quote_name
    response_field = IdempotencyRecord._meta.get_field("response")
    adapt = connection.ops.adapt_datetimefield_value
    with hot_cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (workspace_id, {quote('key')}, request_hash, response, "
            "created_at) VALUES (%s, %s, %s, %s, %s) "
            f"ON CONFLICT (workspace_id, {quote('key')}) DO UPDATE SET "
            "request_hash = excluded.request_hash, response = excluded.response, "
            f"created_at = excluded.created_at WHERE {table}.created_at < %s RETURNING id",
            [
                workspace.pk,
                key,
                body_hash,
                response_field.get_db_prep_save(response, connection),
                adapt(now),
                adapt(now - IDEMPOTENCY_TTL),
            ],
        )
        if cursor.fetchone() is None:
            raise _IdempotencyKeyTaken


def idempotency_purge(*, batch_size: int = 5000) -> int:
    """Deletes idempotency rows older than 24 h (they replay nothing any more), in batches
    so no statement holds many row locks. The DELETE re-checks the age: a row that a request
    renewed meanwhile stays. Returns how many rows went."""
    cutoff = timezone.now() - IDEMPOTENCY_TTL
    expired = IdempotencyRecord.objects.filter(created_at__lt=cutoff)
    deleted = 0
    while True:
        ids = list(expired.order_by().values_list("pk", flat=True)[:batch_size])
        if not ids:
            return deleted
        deleted += expired.filter(pk__in=ids).delete()[0]
