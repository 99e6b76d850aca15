"""What each kind of job does: apps register handlers at start-up (AppConfig.ready), so the
runner in jobs.services knows no domain app."""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class JobHandler:
    name: str
    # job -> chunk payloads, each a dict with "size" (items it counts for in the progress).
    plan: Callable
    # (job, payload) -> prepared data; runs outside the chunk's transaction (slow reads, CPU).
    prepare: Callable | None
    # (job, payload, prepared) -> (result counts, errors); runs inside the chunk's
    # transaction, which also marks the chunk done.
    apply: Callable
    # job -> None; after the job succeeded and committed (e.g. queue a follow-up job).
    on_success: Callable | None = None


_handlers: dict[str, JobHandler] = {}


def register(handler: JobHandler) -> None:
    _handlers[handler.name] = handler


def handler_get(name: str) -> JobHandler:
    try:
        return _handlers[name]
    except KeyError:
        raise LookupError(f"no job handler named {name!r}") from None
