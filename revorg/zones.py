"""Time zones for people: the picker's list, the viewer's zone, how a moment is written.

A time on a page always names its zone: "09:00" alone is a different moment for every reader
of a distributed sales team.
"""

import zoneinfo
from datetime import UTC, datetime, tzinfo
from functools import cache

SESSION_TIMEZONE_KEY = "viewer_timezone"


@cache
def timezone_names() -> tuple[str, ...]:
    """Every IANA zone this machine knows, sorted: what the time zone pickers offer."""
    return tuple(sorted(zoneinfo.available_timezones()))


def timezone_valid(name) -> bool:
    return isinstance(name, str) and name in frozenset(timezone_names())


def zone_get(name: str | None) -> tzinfo:
    """The zone of that name, UTC for an empty or unknown one (a page never fails on it)."""
    if name and timezone_valid(name):
        return zoneinfo.ZoneInfo(name)
    return UTC


def zone_name(zone: tzinfo) -> str:
    return getattr(zone, "key", None) or ("UTC" if zone is UTC else str(zone))


def moment_format(value: datetime, zone: tzinfo) -> str:
    """`2026-11-30 09:15 Europe/Paris`: the moment in `zone`, with the zone's name."""
    return f"{value.astimezone(zone):%Y-%m-%d %H:%M} {zone_name(zone)}"
