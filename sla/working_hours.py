"""Time to accept, counted in a member's working hours: plain data in, a datetime out.

A schedule is `{"mon": [["09:00", "17:00"]], ...}` in the member's zone: per weekday,
sorted, non-overlapping intervals within the day ("24:00" ends a day at midnight; the
members app validates this). An empty schedule means round the clock. Absences (holidays,
time off) are cut out of the working time. Each interval is placed on the calendar in local
time and measured in real (UTC) time, so a shift that a DST change shortens or lengthens
counts what it really lasts, and a clock time the change skips is read with the offset
before it (zoneinfo's fold=0).
"""

from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Beyond this many days without working time (a year of absence) the clock ends this far
# ahead: a due time must exist.
SEARCH_DAYS = 400


def _at(day: date, text: str, zone: ZoneInfo) -> datetime:
    hours, minutes = (int(part) for part in text.split(":"))
    if hours == 24:
        day, hours = day + timedelta(days=1), 0
    return datetime.combine(day, time(hours, minutes), tzinfo=zone).astimezone(UTC)


def _always(schedule: dict | None) -> bool:
    return not schedule or not any(schedule.get(day) for day in WEEKDAYS)


def _working(
    schedule: dict | None, zone_name: str, start: datetime, holes: list
) -> Iterator[tuple[datetime, datetime]]:
    """Working intervals (UTC, in order) from `start` on, absences cut out; lazily, day by
    day, for at most SEARCH_DAYS."""
    limit = start + timedelta(days=SEARCH_DAYS)
    if _always(schedule):
        raw: Iterable = [(start, limit)]
    else:
        raw = _scheduled(schedule, ZoneInfo(zone_name), start)
    for begin, end in raw:
        if begin >= limit:
            return
        begin = max(begin, start)
        if end <= begin:
            continue
        yield from _cut(begin, min(end, limit), holes)


def _scheduled(schedule: dict, zone: ZoneInfo, start: datetime):
    first = start.astimezone(zone).date()
    for offset in range(SEARCH_DAYS + 1):
        day = first + timedelta(days=offset)
        for begin, end in schedule.get(WEEKDAYS[day.weekday()], ()):
            yield _at(day, begin, zone), _at(day, end, zone)


def _cut(begin: datetime, end: datetime, holes: list) -> Iterator[tuple[datetime, datetime]]:
    """[begin, end) without the holes (sorted by start)."""
    for hole_start, hole_end in holes:
        if hole_end <= begin:
            continue
        if hole_start >= end:
            break
        if hole_start > begin:
            yield begin, hole_start
        begin = max(begin, hole_end)
        if begin >= end:
            return
    yield begin, end


def _holes(absences) -> list[tuple[datetime, datetime]]:
    return sorted((a.astimezone(UTC), b.astimezone(UTC)) for a, b in absences if b > a)


def due_at(
    *,
    start: datetime,
    minutes: float,
    schedule: dict | None,
    zone_name: str = "UTC",
    absences: Iterable[tuple[datetime, datetime]] = (),
) -> datetime:
    """When `minutes` of working time will have passed since `start`."""
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    start = start.astimezone(UTC)
    remaining = timedelta(minutes=minutes)
    for begin, end in _working(schedule, zone_name, start, _holes(absences)):
        if end - begin >= remaining:
            return begin + remaining
        remaining -= end - begin
    return start + timedelta(days=SEARCH_DAYS)


def working_minutes_between(
    *,
    start: datetime,
    end: datetime,
    schedule: dict | None,
    zone_name: str = "UTC",
    absences: Iterable[tuple[datetime, datetime]] = (),
) -> float:
    """How many working minutes lie in [start, end)."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    total = timedelta()
    for begin, finish in _working(schedule, zone_name, start, _holes(absences)):
        if begin >= end:
            break
        total += min(finish, end) - begin
    return total.total_seconds() / 60
