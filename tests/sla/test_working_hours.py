"""Due times in working hours: weekends, nights, absences, zones and DST changes."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from members.validation import working_hours_errors
from sla.working_hours import SEARCH_DAYS, due_at, working_minutes_between

WEEKDAYS_9_TO_5 = {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")


def local(zone, *args):
    return datetime(*args, tzinfo=zone)


def test_an_empty_schedule_counts_round_the_clock():
    start = datetime(2026, 11, 28, 23, 0, tzinfo=UTC)  # a Saturday night
    assert due_at(start=start, minutes=90, schedule={}) == start + timedelta(minutes=90)


def test_time_within_one_working_day():
    start = local(PARIS, 2026, 11, 30, 10, 0)  # Monday
    due = due_at(start=start, minutes=120, schedule=WEEKDAYS_9_TO_5, zone_name="Europe/Paris")
    assert due == local(PARIS, 2026, 11, 30, 12, 0)


def test_a_record_arriving_at_night_starts_counting_next_morning():
    start = local(PARIS, 2026, 12, 1, 22, 30)  # Tuesday night
    due = due_at(start=start, minutes=30, schedule=WEEKDAYS_9_TO_5, zone_name="Europe/Paris")
    assert due == local(PARIS, 2026, 12, 2, 9, 30)


def test_friday_afternoon_runs_over_the_weekend_into_monday():
    start = local(PARIS, 2026, 12, 4, 16, 0)  # Friday 16:00: one hour left that day
    due = due_at(start=start, minutes=180, schedule=WEEKDAYS_9_TO_5, zone_name="Europe/Paris")
    assert due == local(PARIS, 2026, 12, 7, 11, 0)  # Monday 11:00


def test_split_shifts_skip_the_lunch_break():
    schedule = {"mon": [["09:00", "12:00"], ["13:00", "17:00"]]}
    start = local(PARIS, 2026, 11, 30, 11, 30)
    due = due_at(start=start, minutes=60, schedule=schedule, zone_name="Europe/Paris")
    assert due == local(PARIS, 2026, 11, 30, 13, 30)


def test_a_shift_until_midnight_ends_at_24_00():
    schedule = {"mon": [["20:00", "24:00"]], "tue": [["00:00", "02:00"]]}
    start = local(PARIS, 2026, 11, 30, 23, 0)
    due = due_at(start=start, minutes=120, schedule=schedule, zone_name="Europe/Paris")
    assert due == local(PARIS, 2026, 12, 1, 1, 0)


def test_an_absence_is_taken_out_of_working_time():
    start = local(PARIS, 2026, 11, 30, 16, 0)  # Monday
    holiday = (local(PARIS, 2026, 12, 1, 0, 0), local(PARIS, 2026, 12, 2, 0, 0))  # Tuesday off
    due = due_at(
        start=start,
        minutes=120,
        schedule=WEEKDAYS_9_TO_5,
        zone_name="Europe/Paris",
        absences=[holiday],
    )
    assert due == local(PARIS, 2026, 12, 2, 10, 0)  # 1 h Monday, Tuesday off, 1 h Wednesday


def test_an_absence_in_the_middle_of_a_day_splits_it():
    start = local(PARIS, 2026, 11, 30, 9, 0)
    doctor = (local(PARIS, 2026, 11, 30, 10, 0), local(PARIS, 2026, 11, 30, 11, 30))
    due = due_at(
        start=start, minutes=120, schedule=WEEKDAYS_9_TO_5, zone_name="Europe/Paris",
        absences=[doctor],
    )  # fmt: skip
    assert due == local(PARIS, 2026, 11, 30, 12, 30)


def test_the_schedule_is_read_in_the_members_zone():
    start = datetime(2026, 11, 30, 13, 0, tzinfo=UTC)  # 08:00 in New York
    due = due_at(start=start, minutes=60, schedule=WEEKDAYS_9_TO_5, zone_name="America/New_York")
    assert due == local(NEW_YORK, 2026, 11, 30, 10, 0)


def test_a_night_shift_shortened_by_spring_forward_counts_its_real_length():
    # Paris springs forward on 2026-03-29 at 02:00 → 03:00: 00:00–06:00 lasts 5 real hours.
    schedule = {"sun": [["00:00", "06:00"]], "mon": [["00:00", "06:00"]]}
    start = local(PARIS, 2026, 3, 29, 0, 0)
    due = due_at(start=start, minutes=6 * 60, schedule=schedule, zone_name="Europe/Paris")
    assert due == local(PARIS, 2026, 3, 30, 1, 0)  # 5 h Sunday night, 1 h Monday night


def test_a_night_shift_lengthened_by_fall_back_counts_its_real_length():
    # Paris falls back on 2026-10-25 at 03:00 → 02:00: 00:00–06:00 lasts 7 real hours.
    schedule = {"sun": [["00:00", "06:00"]]}
    start = local(PARIS, 2026, 10, 25, 0, 0)
    minutes = working_minutes_between(
        start=start,
        end=local(PARIS, 2026, 10, 25, 12, 0),
        schedule=schedule,
        zone_name="Europe/Paris",
    )
    assert minutes == 7 * 60


def test_a_day_schedule_keeps_its_local_hours_across_a_dst_change():
    # New York springs forward on 2026-03-08 (a Sunday): Monday still opens at 09:00 local.
    start = local(NEW_YORK, 2026, 3, 6, 16, 30)  # Friday before, EST
    due = due_at(start=start, minutes=60, schedule=WEEKDAYS_9_TO_5, zone_name="America/New_York")
    assert due == local(NEW_YORK, 2026, 3, 9, 9, 30)
    assert due == datetime(2026, 3, 9, 13, 30, tzinfo=UTC)  # 09:30 EDT is UTC−4


def test_a_time_that_does_not_exist_is_read_with_the_offset_before_the_change():
    # 02:30 does not exist in Paris on 2026-03-29; the shift 02:30–04:00 starts at 03:30 CEST.
    schedule = {"sun": [["02:30", "04:00"]]}
    start = local(PARIS, 2026, 3, 29, 0, 0)
    due = due_at(start=start, minutes=15, schedule=schedule, zone_name="Europe/Paris")
    assert due == datetime(2026, 3, 29, 1, 45, tzinfo=UTC)  # 03:45 CEST


def test_working_minutes_between_counts_only_working_time():
    start = local(PARIS, 2026, 12, 4, 16, 0)  # Friday 16:00
    end = local(PARIS, 2026, 12, 7, 10, 0)  # Monday 10:00
    assert (
        working_minutes_between(
            start=start, end=end, schedule=WEEKDAYS_9_TO_5, zone_name="Europe/Paris"
        )
        == 120
    )


def test_a_year_of_absence_still_gives_a_due_time():
    start = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    away = (start, start + timedelta(days=SEARCH_DAYS + 10))
    due = due_at(start=start, minutes=60, schedule=WEEKDAYS_9_TO_5, absences=[away])
    assert due == start + timedelta(days=SEARCH_DAYS)


def test_a_naive_start_is_refused():
    with pytest.raises(ValueError):
        due_at(start=datetime(2026, 1, 5, 9, 0), minutes=1, schedule={})


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ([], "JSON object"),
        ({"monday": []}, "not a day"),
        ({"mon": "09:00-17:00"}, "list"),
        ({"mon": [["9:00", "17:00"]]}, "HH:MM"),
        ({"mon": [["09:00", "24:30"]]}, "HH:MM"),
        ({"mon": [["17:00", "09:00"]]}, "ends before it starts"),
        ({"mon": [["09:00", "13:00"], ["12:00", "17:00"]]}, "overlap"),
        ({"mon": [["09:00"]]}, "each interval"),
    ],
)
def test_bad_schedules_are_refused_with_a_reason(value, message):
    errors = working_hours_errors(value)
    assert errors and message in " ".join(errors)


def test_good_schedules_pass():
    assert working_hours_errors({}) == []
    assert working_hours_errors({"mon": [["00:00", "12:00"], ["13:00", "24:00"]]}) == []
