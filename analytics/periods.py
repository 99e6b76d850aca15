"""Fiscal periods and the proration of quotas over them (pure functions, no ORM).

A workspace's fiscal year starts on the first day of its `fiscal_year_start_month`; its
quarters are the three-month blocks from there and its months are calendar months. A quota
set for one period and read for another counts in proportion to the months they share, a
partial month by its share of days (so a yearly quota read for one fiscal quarter is a
quarter of it, whatever the months' lengths).
"""

import calendar
import functools
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive
    label: str = ""


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def fiscal_year_of(day: date, start_month: int) -> Period:
    """The fiscal year containing `day`, named after the calendar year it ends in (FY2027
    runs Feb 2026 – Jan 2027 when it starts in February), as most companies name it."""
    year = day.year if day.month >= start_month else day.year - 1
    start = date(year, start_month, 1)
    end = _add_months(start, 12) - timedelta(days=1)
    return Period(start, end, f"FY{end.year}")


def fiscal_quarters(year: Period) -> list[Period]:
    quarters = []
    for index in range(4):
        start = _add_months(year.start, 3 * index)
        end = _add_months(start, 3) - timedelta(days=1)
        quarters.append(Period(start, end, f"{year.label} Q{index + 1}"))
    return quarters


def fiscal_quarter_of(day: date, start_month: int) -> Period:
    return next(q for q in fiscal_quarters(fiscal_year_of(day, start_month)) if q.end >= day)


def fiscal_months(year: Period) -> list[Period]:
    return [
        Period(
            _add_months(year.start, index),
            _add_months(year.start, index + 1) - timedelta(days=1),
            _add_months(year.start, index).strftime("%b %Y"),
        )
        for index in range(12)
    ]


def month_slices(start: date, end: date):
    """(first day of the calendar month, days of [start, end] in it, days in the month)."""
    cursor = date(start.year, start.month, 1)
    while cursor <= end:
        days_in_month = calendar.monthrange(cursor.year, cursor.month)[1]
        month_end = cursor + timedelta(days=days_in_month - 1)
        covered = (min(end, month_end) - max(start, cursor)).days + 1
        yield cursor, covered, days_in_month
        cursor = month_end + timedelta(days=1)


def month_weight(start: date, end: date) -> Decimal:
    """How many months [start, end] spans, a partial month by its share of days."""
    return sum(
        (Decimal(covered) / Decimal(days) for _, covered, days in month_slices(start, end)),
        Decimal(0),
    )


def ramp_factor(month: date, *, ramp_start: date | None, percentages: list[int]) -> Decimal:
    """The share of quota a rep carries in the calendar month `month`: 0 before their ramp
    starts, `percentages[n-1]` % in the n-th month of the ramp (the start date's month is
    the first), 100 % after it."""
    if ramp_start is None:
        return Decimal(1)
    index = (month.year - ramp_start.year) * 12 + month.month - ramp_start.month
    if index < 0:
        return Decimal(0)
    if index < len(percentages):
        return Decimal(percentages[index]) / 100
    return Decimal(1)


def prorated_quota(
    *,
    amount: Decimal,
    quota_start: date,
    quota_end: date,
    period: Period,
    ramp_start: date | None = None,
    ramp_percentages=(),
) -> Decimal:
    """The part of a quota that falls in `period`, each month weighted by the ramp."""
    return Decimal(amount) * proration(
        quota_start, quota_end, period.start, period.end, ramp_start, tuple(ramp_percentages)
    )


@functools.lru_cache(maxsize=4096)
def proration(
    quota_start: date,
    quota_end: date,
    start: date,
    end: date,
    ramp_start: date | None,
    ramp_percentages: tuple[int, ...],
) -> Decimal:
    """The share of a quota of [quota_start, quota_end] that falls in [start, end]; most
    quotas of a workspace share their dates, so this is computed once per shape."""
    start, end = max(quota_start, start), min(quota_end, end)
    if start > end:
        return Decimal(0)
    total = month_weight(quota_start, quota_end)
    if not total:
        return Decimal(0)
    share = Decimal(0)
    for month, covered, days in month_slices(start, end):
        factor = ramp_factor(month, ramp_start=ramp_start, percentages=list(ramp_percentages))
        share += Decimal(covered) / Decimal(days) * factor
    return share / total


MAX_PERIOD_DAYS = 366 * 5
# Periods and quotas stay well inside what date arithmetic can hold (9999-12-31 + 1 day fails).
EARLIEST, LATEST = date(1900, 1, 1), date(2999, 12, 31)


def period_parse(*, start_text, end_text, fiscal_start_month: int, today: date) -> Period:
    """The period a query asks for: `period_start` and `period_end` (ISO dates, both or
    neither); neither means the current fiscal quarter. Bad input is a 400 naming the field."""
    from revorg.parsing import BadParameter

    start_text, end_text = (start_text or "").strip(), (end_text or "").strip()
    if not start_text and not end_text:
        return fiscal_quarter_of(today, fiscal_start_month)
    days = {}
    for name, text in (("period_start", start_text), ("period_end", end_text)):
        if not text:
            raise BadParameter(
                "Give both period start and period end (or neither for this quarter).",
                field=name,
            )
        try:
            days[name] = date.fromisoformat(text) if len(text) == 10 else None
        except ValueError:
            days[name] = None
        if days[name] is None:
            label = name.replace("_", " ").capitalize()
            raise BadParameter(f"{label} must be a date as YYYY-MM-DD.", field=name)
    for name, day in days.items():
        if not EARLIEST <= day <= LATEST:
            label = name.replace("_", " ").capitalize()
            raise BadParameter(f"{label} must be between 1900 and 2999.", field=name)
    if days["period_end"] < days["period_start"]:
        raise BadParameter("Period end must not be before period start.", field="period_end")
    if (days["period_end"] - days["period_start"]).days > MAX_PERIOD_DAYS:
        raise BadParameter("Period end: a period spans at most five years.", field="period_end")
    return Period(days["period_start"], days["period_end"])


def period_choices(*, fiscal_start_month: int, today: date) -> list[Period]:
    """The periods a picker offers: this fiscal year and the last, their quarters, and this
    year's months."""
    this_year = fiscal_year_of(today, fiscal_start_month)
    last_year = fiscal_year_of(this_year.start - timedelta(days=1), fiscal_start_month)
    return [
        this_year,
        *fiscal_quarters(this_year),
        last_year,
        *fiscal_quarters(last_year),
        *fiscal_months(this_year),
    ]
