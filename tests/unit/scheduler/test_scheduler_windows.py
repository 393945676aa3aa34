"""Weekly local windows expanded to UTC intervals, across DST changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from alongside.kit.errors import InvalidArgument
from alongside.scheduler.domain.model import Interval, WeeklyWindow
from alongside.scheduler.domain.windows import expand_windows

SUN = 6


def utc(y: int, mo: int, d: int, h: int = 0) -> datetime:
    return datetime(y, mo, d, h, tzinfo=UTC)


def test_window_becomes_one_utc_interval_per_week() -> None:
    got = expand_windows([WeeklyWindow(0, 9 * 60, 12 * 60)], "UTC", utc(2027, 3, 1), utc(2027, 3, 15))
    assert got == [Interval(utc(2027, 3, 1, 9), utc(2027, 3, 1, 12)), Interval(utc(2027, 3, 8, 9), utc(2027, 3, 8, 12))]


def test_offset_changes_across_us_spring_forward() -> None:
    window = WeeklyWindow(0, 10 * 60, 11 * 60)  # Mondays 10:00-11:00 New York
    got = expand_windows([window], "America/New_York", utc(2027, 3, 8), utc(2027, 3, 16))
    assert [i.start for i in got] == [utc(2027, 3, 8, 15), utc(2027, 3, 15, 14)]


def test_spring_forward_window_loses_the_missing_hour() -> None:
    window = WeeklyWindow(SUN, 60, 4 * 60)  # 01:00-04:00 local, only two real hours
    got = expand_windows([window], "America/New_York", utc(2027, 3, 14), utc(2027, 3, 15))
    assert got == [Interval(utc(2027, 3, 14, 6), utc(2027, 3, 14, 8))]


def test_window_ending_inside_gap_ends_at_transition() -> None:
    window = WeeklyWindow(SUN, 0, 2 * 60 + 30)
    got = expand_windows([window], "America/New_York", utc(2027, 3, 14), utc(2027, 3, 15))
    assert got == [Interval(utc(2027, 3, 14, 5), utc(2027, 3, 14, 7))]


def test_window_wholly_inside_gap_is_empty() -> None:
    window = WeeklyWindow(SUN, 2 * 60 + 10, 2 * 60 + 50)
    assert expand_windows([window], "Europe/Berlin", utc(2027, 3, 28), utc(2027, 3, 29)) == []


def test_fall_back_window_covers_the_repeated_hour_twice() -> None:
    window = WeeklyWindow(SUN, 0, 4 * 60)  # five real hours on fall-back night
    got = expand_windows([window], "America/New_York", utc(2027, 11, 7), utc(2027, 11, 8))
    assert got == [Interval(utc(2027, 11, 7, 4), utc(2027, 11, 7, 9))]


def test_adjacent_windows_across_midnight_merge() -> None:
    windows = [WeeklyWindow(0, 23 * 60, 24 * 60), WeeklyWindow(1, 0, 60)]
    got = expand_windows(windows, "UTC", utc(2027, 3, 1), utc(2027, 3, 3))
    assert got == [Interval(utc(2027, 3, 1, 23), utc(2027, 3, 2, 1))]


def test_expansion_is_clipped_to_the_horizon() -> None:
    window = WeeklyWindow(0, 9 * 60, 17 * 60)
    got = expand_windows([window], "UTC", utc(2027, 3, 1, 12), utc(2027, 3, 1, 13))
    assert got == [Interval(utc(2027, 3, 1, 12), utc(2027, 3, 1, 13))]


def test_local_day_of_window_follows_the_zone() -> None:
    # Monday 08:00 in Tokyo is Sunday 23:00 UTC.
    got = expand_windows([WeeklyWindow(0, 8 * 60, 9 * 60)], "Asia/Tokyo", utc(2027, 2, 28), utc(2027, 3, 2))
    assert got == [Interval(utc(2027, 2, 28, 23), utc(2027, 3, 1, 0))]


def test_unknown_zone_names_the_field() -> None:
    with pytest.raises(InvalidArgument) as err:
        expand_windows([], "Mars/Olympus", utc(2027, 3, 1), utc(2027, 3, 2))
    assert err.value.field == "time_zone"


def test_horizon_end_before_start_is_rejected() -> None:
    with pytest.raises(InvalidArgument) as err:
        expand_windows([], "UTC", utc(2027, 3, 2), utc(2027, 3, 1))
    assert err.value.field == "horizon"


@pytest.mark.parametrize(("day", "start", "end", "field"), [(7, 0, 60, "window.day"), (0, 60, 60, "window.end_min")])
def test_bad_window_names_the_field(day: int, start: int, end: int, field: str) -> None:
    with pytest.raises(InvalidArgument) as err:
        WeeklyWindow(day, start, end)
    assert err.value.field == field


def test_window_past_midnight_is_rejected() -> None:
    with pytest.raises(InvalidArgument):
        WeeklyWindow(0, 23 * 60, 25 * 60)
    assert timedelta(minutes=WeeklyWindow(0, 0, 1440).end_min) == timedelta(days=1)
