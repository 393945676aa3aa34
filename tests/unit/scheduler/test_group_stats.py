"""Group attendance per bucket: counted by the meeting's start, small cells suppressed."""

from __future__ import annotations

from alongside.kit.stats import DAY_MS, WEEK_MS, Bucket, Count, StatsRange
from alongside.scheduler.domain.group_stats import attendance_of, group_attendance

MONDAY = 4 * DAY_MS + 2_900 * WEEK_MS  # a Monday, 00:00 UTC
RNG = StatsRange(MONDAY, MONDAY + 2 * WEEK_MS, Bucket.WEEK)


def test_attendance_is_counted_per_week_and_small_cells_are_hidden() -> None:
    first, second = MONDAY + 3_600_000, MONDAY + WEEK_MS + 3_600_000
    facts = [f"{first}|A".encode()] * 5 + [f"{first}|N".encode(), f"{second}|A".encode(), f"{second}|N".encode()]
    weeks = group_attendance(attendance_of(facts), RNG, k=5)
    assert [(w.bucket_start_ms, w.attended, w.absent) for w in weeks] == [
        (MONDAY, Count(5, False), Count(0, True)),
        (MONDAY + WEEK_MS, Count(0, True), Count(0, True)),
    ]


def test_a_malformed_fact_and_one_outside_the_range_count_for_nothing() -> None:
    facts = [b"junk", b"12|X", f"{MONDAY - 1}|A".encode(), f"{MONDAY + 2 * WEEK_MS}|A".encode()]
    weeks = group_attendance(attendance_of(facts), RNG, k=2)
    assert [(w.attended, w.absent) for w in weeks] == [(Count(0, False), Count(0, False))] * 2
