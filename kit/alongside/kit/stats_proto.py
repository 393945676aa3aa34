"""The dashboard's shared messages (``alongside.common.v1`` stats) in and out.

Both services validate a stats request the same way: each Timestamp within
the protobuf range with nanos 0..999999999, a known bucket, a bounded span.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp

from alongside.api.common.v1 import stats_pb2
from alongside.kit.errors import InvalidArgument
from alongside.kit.stats import Bucket, Count, StatsRange, Summary, stats_range

# 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z, the Timestamp's documented range.
MIN_SECONDS = -62_135_596_800
MAX_SECONDS = 253_402_300_799
BUCKETS = {
    stats_pb2.STATS_BUCKET_UNSPECIFIED: Bucket.WEEK,
    stats_pb2.STATS_BUCKET_WEEK: Bucket.WEEK,
    stats_pb2.STATS_BUCKET_DAY: Bucket.DAY,
}
BUCKETS_OUT = {Bucket.WEEK: stats_pb2.STATS_BUCKET_WEEK, Bucket.DAY: stats_pb2.STATS_BUCKET_DAY}


def instant_in(field: str, stamp: Timestamp) -> int:
    """Milliseconds since the epoch, or INVALID_ARGUMENT naming the field."""
    if not MIN_SECONDS <= stamp.seconds <= MAX_SECONDS:
        raise InvalidArgument(f"{field}.seconds", "is outside 0001-01-01..9999-12-31")
    if not 0 <= stamp.nanos <= 999_999_999:
        raise InvalidArgument(f"{field}.nanos", "must be between 0 and 999999999")
    return stamp.seconds * 1000 + stamp.nanos // 1_000_000


def range_in(req: Any, now_ms: int) -> StatsRange:
    """The range of a stats request (fields ``start``, ``end``, ``bucket``)."""
    bucket = BUCKETS.get(req.bucket)
    if bucket is None:
        raise InvalidArgument("bucket", "is not a known bucket")
    start = instant_in("start", req.start) if req.HasField("start") else None
    end = instant_in("end", req.end) if req.HasField("end") else None
    return stats_range(start, end, bucket, now_ms)


def ts_out(at_ms: int) -> Timestamp:
    stamp = Timestamp()
    stamp.FromMilliseconds(at_ms)
    return stamp


def count_out(count: Count) -> stats_pb2.StatsCount:
    return stats_pb2.StatsCount(value=count.value, suppressed=count.suppressed)


def summary_out(summary: Summary) -> stats_pb2.DurationSummary:
    return stats_pb2.DurationSummary(
        count=count_out(summary.count), p50_seconds=summary.p50_s, p90_seconds=summary.p90_s
    )


def urgencies_out(summaries: Mapping[str, Summary]) -> list[stats_pb2.UrgencyDurations]:
    return [stats_pb2.UrgencyDurations(urgency=u, duration=summary_out(s)) for u, s in summaries.items()]
