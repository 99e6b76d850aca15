"""The one door for domain events (DESIGN §9 "Events").

Apps that do something worth hearing about call `publish`; the notification app's receivers
turn an event into webhook deliveries and e-mails. Receivers run inside the caller's
transaction, so an event is stored exactly when the change that caused it commits.
"""

from django.dispatch import Signal

EVENT_TYPES = (
    "allocation.created",
    "allocation.reassigned",
    "allocation.sla_warning",
    "allocation.sla_breached",
    "reassignment_request.created",
    "reassignment_request.decided",
    "reassignment_request.executed",
    "plan.activated",
    "job.finished",
    "writeback.failed",
    "account.orphaned",
)

event_published = Signal()


def publish(*, workspace, event_type: str, data: dict, members=()) -> None:
    """Announce `event_type` in `workspace`. `data` is the JSON payload; `members` are the
    members the event concerns (their users are the e-mail recipients)."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {event_type!r}")
    event_published.send(
        sender=None, workspace=workspace, event_type=event_type, data=data, members=tuple(members)
    )
