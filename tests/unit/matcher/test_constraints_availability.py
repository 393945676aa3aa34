"""Weekly availability: one contiguous session-long overlap, in UTC.

These pin the week's arithmetic with a zero engagement horizon (the week of
now only); test_availability_horizon covers clock changes over it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from alongside.kit.errors import InvalidArgument
from alongside.matcher.domain import availability as av
from alongside.matcher.domain.constraints import availability_overlap
from alongside.matcher.domain.model import WeeklyWindow
from alongside.matcher.domain.query import compile_query
from alongside.matcher.domain.roster_index import RosterIndex
from tests.unit.matcher.test_model import NOW, participant, passing, peer, request

MON, SUN = 0, 6
H = 60


def w(day: int, start_h: float, end_h: float) -> WeeklyWindow:
    return WeeklyWindow(day, round(start_h * H), round(end_h * H))


def overlaps(peer_windows: tuple[WeeklyWindow, ...], mine: tuple[WeeklyWindow, ...], **kw: object) -> bool:
    peer_zone = str(kw.pop("peer_zone", "UTC"))
    my_zone = str(kw.pop("my_zone", "UTC"))
    now = kw.pop("now", NOW)
    minutes = kw.pop("session_minutes", 60)
    horizon = kw.pop("horizon", timedelta(0))
    assert isinstance(now, datetime) and isinstance(minutes, int) and isinstance(horizon, timedelta)
    index = RosterIndex([peer("a", availability=peer_windows, time_zone=peer_zone)])
    req = request(participant=participant(availability=mine, time_zone=my_zone), session_minutes=minutes)
    mask = availability_overlap(index, compile_query(index, req, now=now, horizon=horizon))
    assert mask is not None
    return bool(mask[0])


def test_exactly_one_session_of_overlap_is_enough() -> None:
    assert overlaps((w(MON, 9, 10),), (w(MON, 9, 12),))
    assert not overlaps((w(MON, 9, 9.75),), (w(MON, 9, 12),))


def test_overlap_must_be_one_stretch() -> None:
    two_halves = (w(MON, 9, 9.5), w(MON, 10, 10.5))
    assert not overlaps(two_halves, (w(MON, 8, 12),))
    assert overlaps(two_halves, (w(MON, 8, 12),), session_minutes=30)


def test_adjacent_windows_join_into_one_stretch() -> None:
    assert overlaps((w(MON, 9, 9.5), w(MON, 9.5, 10)), (w(MON, 9, 10),))


def test_a_session_needs_whole_quarter_hours() -> None:
    assert av.session_slots(50) == 4
    assert av.session_slots(60) == 4
    assert not overlaps((w(MON, 9, 9.75),), (w(MON, 9, 12),), session_minutes=50)


def test_odd_minutes_round_inwards() -> None:
    odd = (WeeklyWindow(MON, 9 * H + 10, 10 * H + 10),)  # 09:10-10:10 holds only 09:15-10:00
    assert not overlaps(odd, (w(MON, 8, 12),))
    assert overlaps(odd, (w(MON, 8, 12),), session_minutes=45)


def test_time_zones_are_compared_in_utc() -> None:
    # 09:00 in Chicago in January is 15:00 UTC.
    assert overlaps((w(MON, 9, 10),), (w(MON, 15, 16),), peer_zone="America/Chicago")
    assert not overlaps((w(MON, 9, 10),), (w(MON, 9, 10),), peer_zone="America/Chicago")


def test_a_stretch_may_wrap_past_the_end_of_the_week() -> None:
    late_sunday_to_monday = (w(SUN, 23, 24), w(MON, 0, 1))
    assert overlaps((w(SUN, 23.5, 24), w(MON, 0, 0.5)), late_sunday_to_monday)


def test_a_window_east_of_utc_wraps_to_the_previous_utc_day() -> None:
    # Monday 08:00-10:00 in Auckland (UTC+13 in January) is Sunday 19:00-21:00 UTC.
    assert overlaps((w(MON, 8, 10),), (w(SUN, 19, 20),), peer_zone="Pacific/Auckland")


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2026, 1, 14, tzinfo=UTC), False),  # New York UTC-5, London UTC+0
        (datetime(2026, 3, 18, tzinfo=UTC), True),  # New York already UTC-4, London still UTC+0
        (datetime(2026, 4, 8, tzinfo=UTC), False),  # New York UTC-4, London UTC+1
    ],
)
def test_dst_overlap_only_in_the_weeks_when_offsets_differ(now: datetime, expected: bool) -> None:
    new_york_9am, london_1pm = (w(MON, 9, 10),), (w(MON, 13, 14),)
    got = overlaps(london_1pm, new_york_9am, peer_zone="Europe/London", my_zone="America/New_York", now=now)
    assert got is expected
    # Over an engagement the three weeks of March are not enough.
    assert not overlaps(london_1pm, new_york_9am, peer_zone="Europe/London", my_zone="America/New_York", now=now,
                        horizon=timedelta(weeks=26))  # fmt: skip


def test_a_window_is_placed_at_its_regime_offset() -> None:
    monday = MON * av.MINUTES_PER_DAY
    # 09:00-10:00 at UTC-5 is 14:00-15:00 UTC.
    assert av.utc_spans(w(MON, 9, 10), -300) == [(monday + 14 * H, monday + 15 * H)]
    # Monday 00:30-01:30 at UTC+1 starts on Sunday night UTC, across the week's end.
    assert av.utc_spans(w(MON, 0.5, 1.5), 60) == [(av.MINUTES_PER_WEEK - 30, av.MINUTES_PER_WEEK), (0, 30)]


def test_now_must_carry_a_time_zone() -> None:
    index = RosterIndex([peer("a")])
    with pytest.raises(InvalidArgument) as err:
        index.engagement(datetime(2026, 1, 14), "UTC")
    assert err.value.field == "now"


def test_run_starts_wrap() -> None:
    last_two_and_first = (1 << 0) | (1 << (av.SLOTS_PER_WEEK - 1)) | (1 << (av.SLOTS_PER_WEEK - 2))
    assert av.run_starts(last_two_and_first, 3) == 1 << (av.SLOTS_PER_WEEK - 2)
    assert av.run_starts(0b111, 4) == 0


def test_a_peer_without_windows_never_overlaps() -> None:
    assert passing(availability_overlap, [peer("a", availability=())], request()) == []
