"""A weekly series against both people's windows across clock changes (pure, no servers)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from alongside.scheduler.domain.booking import Blocker
from alongside.scheduler.domain.model import Availability, Interval, WeeklyWindow
from alongside.scheduler.domain.recurrence import expand_series
from alongside.scheduler.domain.series_fit import first_break

MON, TUE, SUN = 0, 1, 6
HOUR = timedelta(hours=1)


def weekly(first_local: datetime, tz: str, count: int, minutes: int = 60) -> list[Interval]:
    return [o.interval for o in expand_series(first_local, tz, timedelta(minutes=minutes), count=count)]


def hours(day: int, start: float, end: float) -> WeeklyWindow:
    return WeeklyWindow(day, round(start * 60), round(end * 60))


def test_chicago_and_phoenix_break_on_the_second_sunday_of_march() -> None:
    peer = Availability(tuple(hours(d, 7, 9) for d in range(5)), "America/Phoenix")
    participant = Availability(tuple(hours(d, 8, 9.5) for d in range(5)), "America/Chicago")
    # Mondays 07:00 in Phoenix from 7 December: 08:00 in Chicago, then 09:00 from 14 March (only 30 minutes left).
    series = weekly(datetime(2026, 12, 7, 7), "America/Phoenix", 20)
    broken = first_break(peer, participant, series)
    assert broken is not None
    assert (broken.index, broken.day, broken.blocker) == (14, date(2027, 3, 15), Blocker.PARTICIPANT_UNAVAILABLE)
    assert broken.change == date(2027, 3, 14)
    assert broken.explain(20) == (
        "occurrence 14 on 2027-03-15 is not bookable: the slot is outside the participant's availability"
        " once the clocks change on 2027-03-14"
    )
    # A 30-minute series at 07:00 Phoenix still fits 08:00-09:30 and then 09:00-09:30 in Chicago.
    assert first_break(peer, participant, weekly(datetime(2026, 12, 7, 7), "America/Phoenix", 20, 30)) is None


def test_new_york_and_london_break_only_in_the_weeks_between_their_changes() -> None:
    # A London peer at 14:00 on Mondays and a New Yorker free 09:00-10:00: true except 15 and 22 March.
    peer = Availability((hours(MON, 14, 16),), "Europe/London")
    participant = Availability((hours(MON, 9, 10),), "America/New_York")
    broken = first_break(peer, participant, weekly(datetime(2027, 3, 1, 14), "Europe/London", 6))
    assert broken is not None and broken.day == date(2027, 3, 15) and broken.change == date(2027, 3, 14)
    assert first_break(peer, participant, weekly(datetime(2027, 3, 29, 14), "Europe/London", 20)) is None


def test_sydney_and_los_angeles_across_the_week_end_and_midnight() -> None:
    # A Los Angeles peer free Sundays 12:00-16:00 and a Sydney participant free Monday 07:00-09:00.
    peer = Availability((hours(SUN, 12, 16),), "America/Los_Angeles")
    participant = Availability((hours(MON, 7, 9),), "Australia/Sydney")
    # Sunday 13:00 in LA is Monday 08:00 in Sydney in December, 07:00 from 14 March, 06:00 from 4 April.
    broken = first_break(peer, participant, weekly(datetime(2027, 2, 7, 13), "America/Los_Angeles", 12))
    assert broken is not None
    assert (broken.day, broken.change) == (date(2027, 4, 4), date(2027, 4, 3))
    early = Availability((hours(MON, 6, 9),), "Australia/Sydney")
    assert first_break(peer, early, weekly(datetime(2027, 2, 7, 13), "America/Los_Angeles", 12)) is None


def test_a_participant_window_across_local_midnight() -> None:
    # A Phoenix peer at 22:30 for an hour; a Chicago participant free 23:00-01:00 (two windows).
    peer = Availability((hours(MON, 22, 24),), "America/Phoenix")
    participant = Availability((hours(MON, 23, 24), hours(TUE, 0, 1)), "America/Chicago")
    series = weekly(datetime(2027, 3, 1, 22, 30), "America/Phoenix", 3)
    assert series[0].start == datetime(2027, 3, 2, 5, 30, tzinfo=UTC)
    assert series[0].start.astimezone(ZoneInfo("America/Chicago")).hour == 23  # 23:30-00:30 in Chicago
    broken = first_break(peer, participant, series)  # 00:30-01:30 from 14 March: past 01:00
    assert broken is not None and broken.index == 2 and broken.change == date(2027, 3, 14)
