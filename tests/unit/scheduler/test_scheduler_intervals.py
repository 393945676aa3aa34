"""Interval algebra and the double-booking rule the Redis check mirrors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alongside.scheduler.domain.intervals import conflicts, intersect, merge, subtract
from alongside.scheduler.domain.model import Interval

BUFFER = timedelta(minutes=15)


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2027, 3, 1, hour, minute, tzinfo=UTC)


def span(h1: int, m1: int, h2: int, m2: int) -> Interval:
    return Interval(at(h1, m1), at(h2, m2))


def test_merge_joins_overlapping_and_touching() -> None:
    got = merge([span(11, 0, 12, 0), span(9, 0, 10, 0), span(10, 0, 10, 30), span(9, 30, 9, 45)])
    assert got == [span(9, 0, 10, 30), span(11, 0, 12, 0)]


def test_intersect_of_two_lists() -> None:
    left = [span(9, 0, 12, 0), span(14, 0, 16, 0)]
    right = [span(11, 0, 15, 0)]
    assert intersect(left, right) == [span(11, 0, 12, 0), span(14, 0, 15, 0)]


def test_subtract_cuts_holes() -> None:
    got = subtract([span(9, 0, 17, 0)], [span(8, 0, 9, 30), span(12, 0, 13, 0), span(16, 30, 18, 0)])
    assert got == [span(9, 30, 12, 0), span(13, 0, 16, 30)]


def test_touching_sessions_do_not_conflict_without_buffer() -> None:
    assert not conflicts(span(10, 0, 11, 0), [span(9, 0, 10, 0), span(11, 0, 12, 0)], timedelta(0))


def test_overlap_conflicts() -> None:
    assert conflicts(span(10, 0, 11, 0), [span(10, 59, 11, 30)], timedelta(0))


def test_buffer_gap_must_be_at_least_the_buffer() -> None:
    existing = [span(9, 0, 10, 0)]
    assert conflicts(span(10, 0, 11, 0), existing, BUFFER)  # touching
    assert conflicts(span(10, 14, 11, 0), existing, BUFFER)  # 14 minutes
    assert not conflicts(span(10, 15, 11, 0), existing, BUFFER)  # exactly the buffer


def test_buffer_applies_before_an_existing_session_too() -> None:
    existing = [span(11, 0, 12, 0)]
    assert conflicts(span(10, 0, 10, 50), existing, BUFFER)
    assert not conflicts(span(10, 0, 10, 45), existing, BUFFER)


def test_no_existing_means_no_conflict() -> None:
    assert not conflicts(span(10, 0, 11, 0), [], BUFFER)


def test_interval_normalises_to_utc() -> None:
    plus_two = datetime(2027, 3, 1, 12, 0, tzinfo=UTC).astimezone(tz=None)
    item = Interval(plus_two, plus_two + timedelta(hours=1))
    assert item.start.tzinfo is UTC and item.start == at(12)
