"""Capacity windows in the member's own time zone (pure functions, no ORM)."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def member_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def capacity_window(
    *, period: str, now: datetime, tz_name: str, window_hours: int | None = None
) -> tuple[datetime, datetime]:
    """(start, resets_at) of the window holding `now`: day from local midnight, week from
    Monday 00:00, month from the 1st, rolling = the last N hours (its end is `now`: room frees
    continuously as allocations age out)."""
    if period == "rolling":
        hours = window_hours or 24
        return now - timedelta(hours=hours), now
    zone = member_zone(tz_name)
    local = now.astimezone(zone)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "day":
        start, end = midnight, midnight + timedelta(days=1)
    elif period == "week":
        start = midnight - timedelta(days=local.weekday())
        end = start + timedelta(days=7)
    elif period == "month":
        start = midnight.replace(day=1)
        end = (start + timedelta(days=32)).replace(day=1)
    else:
        raise ValueError(f"unknown period {period!r}")
    # Re-anchor wall-clock times in the zone so DST days are 23 or 25 hours long.
    start = start.replace(tzinfo=None).replace(tzinfo=zone)
    end = end.replace(tzinfo=None).replace(tzinfo=zone)
    return start, end
