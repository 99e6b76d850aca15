from datetime import UTC, datetime

from capacities.windows import capacity_window


def test_day_window_starts_at_member_local_midnight():
    # 23:30 UTC on Monday is already Tuesday 00:30 in Paris (UTC+1 in November)
    now = datetime(2026, 11, 23, 23, 30, tzinfo=UTC)
    start, end = capacity_window(period="day", now=now, tz_name="Europe/Paris")
    assert start == datetime(2026, 11, 23, 23, 0, tzinfo=UTC)
    assert end == datetime(2026, 11, 24, 23, 0, tzinfo=UTC)


def test_same_instant_is_a_different_day_in_new_york():
    now = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)  # Sunday 22:00 in New York
    start, _ = capacity_window(period="day", now=now, tz_name="America/New_York")
    assert start == datetime(2026, 11, 22, 5, 0, tzinfo=UTC)


def test_week_window_starts_monday_local():
    now = datetime(2026, 11, 22, 23, 30, tzinfo=UTC)  # Sunday UTC, Monday 00:30 in Paris
    start, end = capacity_window(period="week", now=now, tz_name="Europe/Paris")
    assert start == datetime(2026, 11, 22, 23, 0, tzinfo=UTC)
    assert (end - start).days == 7
    start_utc, _ = capacity_window(period="week", now=now, tz_name="UTC")
    assert start_utc == datetime(2026, 11, 16, 0, 0, tzinfo=UTC)


def test_month_window_and_rolling_window():
    now = datetime(2026, 12, 31, 12, tzinfo=UTC)
    start, end = capacity_window(period="month", now=now, tz_name="UTC")
    assert (start, end) == (datetime(2026, 12, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
    start, end = capacity_window(period="rolling", now=now, tz_name="UTC", window_hours=6)
    assert (start, end) == (datetime(2026, 12, 31, 6, tzinfo=UTC), now)


def test_unknown_time_zone_falls_back_to_utc():
    now = datetime(2026, 11, 23, 10, tzinfo=UTC)
    start, _ = capacity_window(period="day", now=now, tz_name="Mars/Olympus")
    assert start == datetime(2026, 11, 23, tzinfo=UTC)
