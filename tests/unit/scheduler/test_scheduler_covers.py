"""The cached window-cover check agrees with expanding the windows over the slot."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from alongside.scheduler.domain.model import Availability, Interval, WeeklyWindow
from alongside.scheduler.domain.windows import covers, expand_windows

SUN = 6


def slow_covers(who: Availability, slot: Interval) -> bool:
    inside = expand_windows(who.windows, who.tz, slot.start, slot.end)
    return len(inside) == 1 and inside[0] == slot


def test_matches_the_expansion_across_dst_and_midnight() -> None:
    rng = random.Random(3)
    people = [
        Availability((WeeklyWindow(SUN, 60, 4 * 60), WeeklyWindow(0, 0, 120)), "America/New_York"),
        Availability((WeeklyWindow(SUN, 22 * 60, 1440), WeeklyWindow(0, 0, 3 * 60)), "Europe/Berlin"),
        Availability(tuple(WeeklyWindow(d, 9 * 60, 17 * 60) for d in range(5)), "Asia/Kolkata"),
    ]
    base = datetime(2027, 3, 12, tzinfo=UTC)  # the days around the US and EU spring-forward
    for _ in range(3000):
        who = rng.choice(people)
        start = base + timedelta(minutes=15 * rng.randrange(4 * 96 * 5))
        slot = Interval(start, start + timedelta(minutes=rng.choice((15, 30, 60, 240))))
        assert covers(who, slot) == slow_covers(who, slot), (who.tz, slot)


def test_a_slot_across_midnight_in_adjacent_windows_is_covered() -> None:
    who = Availability((WeeklyWindow(SUN, 23 * 60, 1440), WeeklyWindow(0, 0, 60)), "UTC")
    start = datetime(2027, 3, 7, 23, 30, tzinfo=UTC)  # a Sunday
    assert covers(who, Interval(start, start + timedelta(hours=1)))
    assert not covers(who, Interval(start, start + timedelta(hours=2)))
