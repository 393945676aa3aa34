"""The dashboard's shared arithmetic: ISO weeks in UTC, percentiles, the small-cell rule."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from alongside.kit.errors import InvalidArgument
from alongside.kit.stats import (
    DAY_MS,
    WEEK_MS,
    Bucket,
    Count,
    bucket_start,
    cell,
    merge_small,
    percentile,
    stats_range,
    summarise,
)


def ms(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> int:
    return int(datetime(year, month, day, hour, minute, tzinfo=UTC).timestamp() * 1000)


def test_a_week_starts_on_monday_at_midnight_utc() -> None:
    # 2026-12-06 is a Sunday; its ISO week began on Monday 2026-11-30.
    assert bucket_start(ms(2026, 12, 6, 23, 59), Bucket.WEEK) == ms(2026, 11, 30)
    assert bucket_start(ms(2026, 11, 30), Bucket.WEEK) == ms(2026, 11, 30)
    assert bucket_start(ms(2026, 11, 29, 23, 59), Bucket.WEEK) == ms(2026, 11, 23)
    # Before the epoch (a Thursday) the floor still lands on a Monday.
    assert datetime.fromtimestamp(bucket_start(-1, Bucket.WEEK) / 1000, UTC).isoweekday() == 1


def test_a_day_starts_at_midnight_utc() -> None:
    assert bucket_start(ms(2026, 12, 6, 13, 5), Bucket.DAY) == ms(2026, 12, 6)


def test_range_aligns_its_start_and_counts_per_bucket() -> None:
    rng = stats_range(ms(2026, 11, 25), ms(2026, 12, 10), Bucket.WEEK, now_ms=0)
    assert rng.start_ms == ms(2026, 11, 23)
    assert rng.starts == [ms(2026, 11, 23), ms(2026, 11, 30), ms(2026, 12, 7)]
    at = np.array([ms(2026, 11, 23), ms(2026, 11, 29, 23), ms(2026, 12, 1), ms(2026, 12, 10), ms(2020, 1, 1)])
    assert rng.per_bucket(at) == [2, 1, 0]


def test_range_defaults_to_twelve_buckets_before_now() -> None:
    now = ms(2026, 12, 6, 12)
    rng = stats_range(None, None, Bucket.WEEK, now)
    assert rng.end_ms == now and len(rng.starts) == 13 and rng.starts[-1] == ms(2026, 11, 30)


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [(10 * DAY_MS, 10 * DAY_MS, "end"), (10 * DAY_MS, 0, "end"), (0, 800 * DAY_MS, "end")],
)
def test_bad_ranges_name_the_field(start: int, end: int, field: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        stats_range(start, end, Bucket.WEEK, now_ms=0)
    assert caught.value.field == field


def test_nearest_rank_percentiles_are_values_that_occurred() -> None:
    values = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0]
    assert percentile(values, 50) == 5.0
    assert percentile(values, 90) == 9.0
    assert percentile([7.0], 90) == 7.0


def test_small_counts_are_suppressed_but_zero_is_shown() -> None:
    assert cell(0, 5) == Count(0, False)
    assert cell(1, 5) == Count(0, True)
    assert cell(4, 5) == Count(0, True)
    assert cell(5, 5) == Count(5, False)


def test_a_summary_over_fewer_than_k_values_gives_no_percentile() -> None:
    small = summarise([WEEK_MS] * 4, 5)
    assert small.count.suppressed and small.p50_s == small.p90_s == 0.0
    full = summarise([1000 * s for s in (10, 20, 30, 40, 50)], 5)
    assert full.count == Count(5, False) and full.p50_s == 30.0 and full.p90_s == 50.0


def test_small_groups_merge_into_other_and_each_member_counts_once() -> None:
    groups = {"en": {0, 1, 2, 3, 4}, "so": {5, 6}, "ti": {6, 7, 8}, "am": {9}}
    merged = merge_small(groups, 5)
    assert merged == {"en": {0, 1, 2, 3, 4}, "other": {5, 6, 7, 8, 9}}


def test_an_other_still_too_small_is_left_out() -> None:
    assert merge_small({"en": set(range(6)), "so": {7, 8}}, 5) == {"en": set(range(6))}
