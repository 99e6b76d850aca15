"""Input rules for member data that both the API and the CRM import apply."""

import zoneinfo
from functools import cache

METADATA_MAX_KEYS = 100
METADATA_MAX_KEY_LENGTH = 100
METADATA_MAX_LIST = 200
METADATA_MAX_STRING = 1000


@cache
def known_timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def timezone_errors(value) -> list[str]:
    if not isinstance(value, str) or value not in known_timezones():
        return [f"unknown time zone '{value}'; use an IANA name such as 'Europe/Paris'"]
    return []


def _scalar_error(value, where: str) -> str | None:
    if value is None or isinstance(value, bool | int | float):
        return None
    if isinstance(value, str):
        return None if len(value) <= METADATA_MAX_STRING else f"{where}: string too long"
    return f"{where}: must be a string, number, boolean or null"


def metadata_errors(value) -> list[str]:
    """Metadata is a flat object: values are scalars or lists of scalars (e.g. languages)."""
    if not isinstance(value, dict):
        return ['must be a JSON object, e.g. {"languages": ["en", "fr"]}']
    if len(value) > METADATA_MAX_KEYS:
        return [f"at most {METADATA_MAX_KEYS} keys"]
    errors = []
    for key, item in value.items():
        if not key or len(key) > METADATA_MAX_KEY_LENGTH:
            errors.append(f"key '{key[:20]}': must be 1 to {METADATA_MAX_KEY_LENGTH} characters")
        elif isinstance(item, list):
            if len(item) > METADATA_MAX_LIST:
                errors.append(f"{key}: at most {METADATA_MAX_LIST} items")
            errors.extend(
                error
                for index, element in enumerate(item)
                if (error := _scalar_error(element, f"{key}[{index}]"))
            )
        elif error := _scalar_error(item, key):
            errors.append(error)
    return errors


WORKING_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_INTERVALS_PER_DAY = 6


def _minutes_of(text) -> int | None:
    """ "HH:MM" (00:00 to 24:00) as minutes since midnight, else None."""
    if not isinstance(text, str) or len(text) != 5 or text[2] != ":":
        return None
    hours, minutes = text[:2], text[3:]
    if not (hours.isdigit() and minutes.isdigit()):
        return None
    value = int(hours) * 60 + int(minutes)
    if int(minutes) > 59 or value > 24 * 60:
        return None
    return value


def working_hours_errors(value) -> list[str]:
    """A weekly schedule in the member's zone: `{"mon": [["09:00", "17:00"]], ...}`, each day
    a sorted list of non-overlapping intervals within the day; `{}` means round the clock."""
    if not isinstance(value, dict):
        return ['must be a JSON object, e.g. {"mon": [["09:00", "17:00"]]}']
    errors = []
    for day, intervals in value.items():
        if day not in WORKING_DAYS:
            errors.append(f"'{str(day)[:10]}': not a day; use {', '.join(WORKING_DAYS)}")
            continue
        if not isinstance(intervals, list) or len(intervals) > MAX_INTERVALS_PER_DAY:
            errors.append(f"{day}: a list of at most {MAX_INTERVALS_PER_DAY} [start, end] pairs")
            continue
        previous_end = -1
        for interval in intervals:
            if not isinstance(interval, list) or len(interval) != 2:
                errors.append(f'{day}: each interval is ["HH:MM", "HH:MM"]')
                break
            start, end = (_minutes_of(part) for part in interval)
            if start is None or end is None:
                errors.append(f"{day}: times are HH:MM between 00:00 and 24:00")
                break
            if end <= start:
                errors.append(f"{day}: {interval[0]}–{interval[1]} ends before it starts")
                break
            if start < previous_end:
                errors.append(f"{day}: intervals must be in order and must not overlap")
                break
            previous_end = end
    return errors


def schedule_from_text(day_texts: dict[str, str]) -> tuple[dict, dict[str, str]]:
    """The member page's weekly form: per day a text like "09:00-12:00, 13:00-17:30" (empty:
    not working that day) as a `working_hours` schedule, and the days whose text is not a
    list of HH:MM-HH:MM intervals. Every day empty is `{}` (round the clock). The schedule
    still goes through `working_hours_errors` (order, overlap, bounds)."""
    schedule, errors = {}, {}
    for day in WORKING_DAYS:
        text = (day_texts.get(day) or "").strip()
        if not text:
            continue
        intervals = []
        for part in text.replace(";", ",").split(","):
            bounds = part.strip().replace("–", "-").split("-")
            if len(bounds) != 2 or not all(b.strip() for b in bounds):
                errors[day] = f'"{part.strip()[:20]}": write intervals as HH:MM-HH:MM'
                break
            intervals.append([bounds[0].strip(), bounds[1].strip()])
        schedule[day] = intervals
    return schedule, errors


def schedule_as_text(schedule: dict | None) -> dict[str, str]:
    """Each day of a schedule as the form writes it ("" when not working)."""
    schedule = schedule or {}
    return {
        day: ", ".join(f"{start}-{end}" for start, end in schedule.get(day) or [])
        for day in WORKING_DAYS
    }
