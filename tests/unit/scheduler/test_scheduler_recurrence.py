"""Weekly series: local-time expansion across DST, count/until, edits, checks."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from alongside.kit.errors import InvalidArgument
from alongside.scheduler.domain import tz as tzx
from alongside.scheduler.domain.booking import Blocker
from alongside.scheduler.domain.model import Availability, Interval, WeeklyWindow
from alongside.scheduler.domain.recurrence import Series, SeriesStatus, expand_series
from alongside.scheduler.domain.series_edit import (
    cancel_occurrence,
    move_occurrence,
    occurrence_problems,
    split,
    to_sessions,
    truncate,
)
from alongside.scheduler.domain.slots import SlotQuery
from alongside.scheduler.domain.validation import zone

MIN45 = timedelta(minutes=45)


def local_hours(tz_name: str, starts: list[datetime]) -> list[tuple[int, int]]:
    tz = zone(tz_name)
    return [(tzx.local_of(s, tz).hour, tzx.local_of(s, tz).minute) for s in starts]


@pytest.mark.parametrize(
    ("tz_name", "first", "offsets"),
    [
        ("America/New_York", datetime(2027, 3, 7, 10), [-5, -4]),  # spring-forward 14 March
        ("America/New_York", datetime(2027, 10, 31, 10), [-4, -5]),  # fall-back 7 November
        ("Europe/Berlin", datetime(2027, 3, 21, 10), [1, 2]),  # spring-forward 28 March
        ("Europe/Berlin", datetime(2027, 10, 24, 10), [2, 1]),  # fall-back 31 October
    ],
)
def test_weekly_10am_stays_10am_local_across_dst(tz_name: str, first: datetime, offsets: list[int]) -> None:
    got = expand_series(first, tz_name, MIN45, count=2)
    starts = [o.interval.start for o in got]
    assert local_hours(tz_name, starts) == [(10, 0), (10, 0)]
    tz = zone(tz_name)
    assert [s.astimezone(tz).utcoffset() for s in starts] == [timedelta(hours=h) for h in offsets]
    assert starts[1] - starts[0] == timedelta(weeks=1) - timedelta(hours=offsets[1] - offsets[0])


def test_count_and_until_give_the_same_series() -> None:
    by_count = expand_series(datetime(2027, 3, 1, 10), "UTC", MIN45, count=4)
    by_until = expand_series(datetime(2027, 3, 1, 10), "UTC", MIN45, until=date(2027, 3, 22))
    assert by_count == by_until and len(by_count) == 4


def test_occurrence_in_gap_is_shifted_and_flagged() -> None:
    got = expand_series(datetime(2027, 3, 7, 2, 30), "America/New_York", MIN45, count=3)
    assert [o.shifted for o in got] == [False, True, False]
    assert local_hours("America/New_York", [o.interval.start for o in got]) == [(2, 30), (3, 30), (2, 30)]


def test_exceptions_are_left_out_but_indexes_kept() -> None:
    got = expand_series(datetime(2027, 3, 1, 10), "UTC", MIN45, count=4, exceptions=frozenset({1}))
    assert [o.index for o in got] == [0, 2, 3]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"count": None, "until": None}, "count"),
        ({"count": 3, "until": date(2027, 4, 1)}, "count"),
        ({"count": 0}, "count"),
        ({"count": 105}, "count"),
        ({"count": None, "until": date(2027, 2, 1)}, "until"),
        ({"count": None, "until": date(2031, 1, 1)}, "until"),
    ],
)
def test_bad_rule_names_the_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidArgument) as err:
        expand_series(datetime(2027, 3, 1, 10), "UTC", MIN45, **kwargs)  # type: ignore[arg-type]
    assert err.value.field == field


def test_first_start_in_gap_or_aware_is_rejected() -> None:
    with pytest.raises(InvalidArgument) as err:
        expand_series(datetime(2027, 3, 14, 2, 30), "America/New_York", MIN45, count=2)
    assert err.value.field == "first_start_local"
    with pytest.raises(InvalidArgument):
        expand_series(datetime(2027, 3, 1, 10, tzinfo=UTC), "UTC", MIN45, count=2)


def series(count: int = 6) -> Series:
    return Series(
        id="ser-1",
        peer_id="p-1",
        participant_ref="ref-1",
        tz="America/New_York",
        first_start_local=datetime(2027, 3, 1, 10),
        duration=MIN45,
        count=count,
    )


def test_cancel_one_occurrence() -> None:
    edited = cancel_occurrence(series(), 2)
    assert [o.index for o in edited.occurrences()] == [0, 1, 3, 4, 5]
    assert edited.sequence == 1


def test_move_one_occurrence() -> None:
    new_start = datetime(2027, 3, 16, 18, 0, tzinfo=UTC)
    edited = move_occurrence(series(), 2, new_start)
    moved = next(o for o in edited.occurrences() if o.index == 2)
    assert moved.interval == Interval(new_start, new_start + MIN45) and moved.moved
    assert moved.original_start == series().occurrences()[2].original_start
    assert edited.sequence == 1


def test_editing_unknown_occurrence_names_the_field() -> None:
    with pytest.raises(InvalidArgument) as err:
        cancel_occurrence(cancel_occurrence(series(), 2), 2)
    assert err.value.field == "occurrence_index"


def test_cancel_this_and_following_sets_until() -> None:
    cut = truncate(series(), 3)
    assert [o.index for o in cut.occurrences()] == [0, 1, 2]
    assert cut.count is None and cut.until == date(2027, 3, 15)


def test_cancel_from_first_cancels_the_series() -> None:
    cut = truncate(series(), 0)
    assert cut.status is SeriesStatus.CANCELLED and cut.occurrences() == []


def test_edit_this_and_following_splits_the_series() -> None:
    source = cancel_occurrence(series(), 4)
    old, new = split(source, 2, "ser-2", datetime(2027, 3, 16, 14))
    assert [o.index for o in old.occurrences()] == [0, 1]
    assert new.id == "ser-2" and new.count == 4
    assert local_hours("America/New_York", [o.interval.start for o in new.occurrences()]) == [(14, 0)] * 3
    assert new.cancelled == frozenset({2})  # the old index 4 stays cancelled


def test_every_occurrence_is_checked_not_just_the_first() -> None:
    occurrences = series().occurrences()
    third = occurrences[2].interval
    q = SlotQuery(
        peer=Availability((WeeklyWindow(0, 8 * 60, 12 * 60),), "America/New_York"),
        participant=None,
        duration=MIN45,
        earliest=datetime(2027, 2, 28, tzinfo=UTC),
        horizon_end=datetime(2027, 5, 1, tzinfo=UTC),
        buffer=timedelta(minutes=15),
        bookings=(Interval(third.end + timedelta(minutes=5), third.end + timedelta(hours=1)),),
        time_off=(occurrences[5].interval,),
    )
    assert occurrence_problems(occurrences, q) == {2: Blocker.CONFLICT, 5: Blocker.TIME_OFF}


def test_sessions_materialise_live_occurrences() -> None:
    sessions = to_sessions(cancel_occurrence(series(3), 1))
    assert [(s.id, s.occurrence_index, s.series_id) for s in sessions] == [
        ("ser-1.0", 0, "ser-1"),
        ("ser-1.2", 2, "ser-1"),
    ]
