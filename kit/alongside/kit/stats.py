"""Aggregates for the programme dashboard: pure, shared by the services.

Time ranges are cut into buckets that start at 00:00 UTC (a week starts on
Monday, ISO 8601). Every figure that leaves a service passes the small-cell
rule: a count between 1 and ``k - 1`` is suppressed, a percentile is given
only over at least ``k`` values, and a group smaller than ``k`` is merged
into "other" (docs/dashboard.md). Instants are integers, milliseconds since
the epoch, so a year of data is bucketed with numpy, not Python loops.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from alongside.kit.errors import InvalidArgument

DAY_MS = 86_400_000
WEEK_MS = 7 * DAY_MS
MONDAY_MS = 4 * DAY_MS  # 1970-01-05, the first Monday after the epoch
MAX_SPAN_MS = 731 * DAY_MS  # two years, leap day included
DEFAULT_BUCKETS = 12
OTHER = "other"
Ints = npt.NDArray[np.int64]


class Bucket(StrEnum):
    WEEK = "WEEK"
    DAY = "DAY"


def bucket_start(at_ms: int, bucket: Bucket) -> int:
    """The start of the bucket holding ``at_ms`` (floor, also before 1970)."""
    if bucket is Bucket.DAY:
        return (at_ms // DAY_MS) * DAY_MS
    return ((at_ms - MONDAY_MS) // WEEK_MS) * WEEK_MS + MONDAY_MS


def bucket_width(bucket: Bucket) -> int:
    return DAY_MS if bucket is Bucket.DAY else WEEK_MS


@dataclass(frozen=True, slots=True)
class StatsRange:
    """[start_ms, end_ms) with ``start_ms`` on a bucket boundary."""

    start_ms: int
    end_ms: int
    bucket: Bucket

    @property
    def starts(self) -> list[int]:
        width = bucket_width(self.bucket)
        return list(range(self.start_ms, self.end_ms, width))

    def snapshot_at(self, now_ms: int) -> list[int]:
        """The instant each bucket is observed: its end, or now if that is sooner."""
        width = bucket_width(self.bucket)
        return [min(s + width, self.end_ms, now_ms) for s in self.starts]

    def index(self, at_ms: Ints) -> Ints:
        """Each instant's bucket number; -1 outside the range."""
        i = (at_ms - self.start_ms) // bucket_width(self.bucket)
        inside = (at_ms >= self.start_ms) & (at_ms < self.end_ms)
        return np.where(inside, i, -1)

    def per_bucket(self, at_ms: Ints) -> list[int]:
        """How many instants fall in each bucket."""
        i = self.index(at_ms)
        counts = np.bincount(i[i >= 0], minlength=len(self.starts))
        return [int(c) for c in counts[: len(self.starts)]]


def stats_range(start_ms: int | None, end_ms: int | None, bucket: Bucket, now_ms: int) -> StatsRange:
    """The requested range, defaulted and checked; errors name the field."""
    end = now_ms if end_ms is None else end_ms
    start = end - DEFAULT_BUCKETS * bucket_width(bucket) if start_ms is None else start_ms
    if end <= start:
        raise InvalidArgument("end", "must be after start")
    if end - start > MAX_SPAN_MS:
        raise InvalidArgument("end", "must be at most 731 days after start")
    return StatsRange(bucket_start(start, bucket), end, bucket)


def percentile(ordered: Sequence[float] | npt.NDArray[np.float64], q: float) -> float:
    """Nearest-rank percentile of sorted values: always one of the values."""
    if not len(ordered):
        raise ValueError("no values")
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return float(ordered[rank - 1])


@dataclass(frozen=True, slots=True)
class Count:
    value: int
    suppressed: bool


def cell(n: int, k: int) -> Count:
    """A count as it may be shown: 1..k-1 is suppressed (0 is shown, it names nobody)."""
    return Count(0, True) if 0 < n < k else Count(n, False)


@dataclass(frozen=True, slots=True)
class Summary:
    """A duration summary in seconds; percentiles are 0 when the count is suppressed or 0."""

    count: Count
    p50_s: float = 0.0
    p90_s: float = 0.0


def summarise(durations_ms: Sequence[float] | npt.NDArray[np.int64], k: int) -> Summary:
    """The median and 90th percentile of durations given in milliseconds."""
    values = np.sort(np.asarray(durations_ms, dtype=np.float64))
    count = cell(len(values), k)
    if count.suppressed or not len(values):
        return Summary(count)
    return Summary(count, percentile(values, 50) / 1000, percentile(values, 90) / 1000)


def merge_small(groups: Mapping[str, set[int]], k: int) -> dict[str, set[int]]:
    """Groups of at least ``k`` members as they are; the rest merged into "other".

    Members are indices, so someone in two small groups counts once in
    "other". An "other" still smaller than ``k`` is left out.
    """
    kept = {name: members for name, members in groups.items() if len(members) >= k and name != OTHER}
    rest: set[int] = set()
    for name, members in groups.items():
        if name not in kept:
            rest |= members
    if len(rest) >= k:
        kept[OTHER] = rest
    return dict(sorted(kept.items()))


def by_key(keys: Sequence[str], values: Ints) -> dict[str, Ints]:
    """Values grouped by a parallel key, in key order."""
    out: dict[str, list[int]] = {}
    for key, value in zip(keys, values.tolist(), strict=True):
        out.setdefault(key, []).append(value)
    return {key: np.array(v, dtype=np.int64) for key, v in sorted(out.items())}
