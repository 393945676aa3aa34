"""Checked conversions of the protobuf well-known types.

``Timestamp.ToDatetime`` raises a bare ``ValueError`` or ``OverflowError``
on an instant outside what protobuf defines (a caller's garbage became
INTERNAL), and ``nanos=-1`` is silently folded into the seconds. Every
Timestamp or Duration a service reads from a request goes through here
instead, so an out-of-range value is an ``InvalidArgument`` naming the field
(its proto path, e.g. ``consent.expires_at``), never the value.

The ranges are protobuf's own (``google/protobuf/timestamp.proto`` and
``duration.proto``): instants from 0001-01-01T00:00:00Z to
9999-12-31T23:59:59.999999999Z, nanos 0..999,999,999; durations up to
±315,576,000,000 s (10,000 years), nanos of the same sign as the seconds.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp

from alongside.kit.errors import InvalidArgument

MIN_SECONDS = -62_135_596_800  # 0001-01-01T00:00:00Z
MAX_SECONDS = 253_402_300_799  # 9999-12-31T23:59:59Z
MAX_NANOS = 999_999_999
MAX_DURATION_SECONDS = 315_576_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def timestamp(field: str, stamp: Timestamp) -> datetime:
    """``stamp`` as an aware UTC datetime (to the microsecond), or InvalidArgument."""
    if not MIN_SECONDS <= stamp.seconds <= MAX_SECONDS:
        raise InvalidArgument(field, "must lie between 0001-01-01 and 9999-12-31 UTC")
    if not 0 <= stamp.nanos <= MAX_NANOS:
        raise InvalidArgument(field, f"nanos must be between 0 and {MAX_NANOS}")
    return _EPOCH + timedelta(seconds=stamp.seconds, microseconds=stamp.nanos // 1000)


def duration(field: str, length: Duration) -> timedelta:
    """``length`` as a timedelta (to the microsecond), or InvalidArgument."""
    seconds, nanos = length.seconds, length.nanos
    if not -MAX_DURATION_SECONDS <= seconds <= MAX_DURATION_SECONDS:
        raise InvalidArgument(field, "must be at most 10,000 years either way")
    if not -MAX_NANOS <= nanos <= MAX_NANOS:
        raise InvalidArgument(field, f"nanos must be between -{MAX_NANOS} and {MAX_NANOS}")
    if (seconds > 0 and nanos < 0) or (seconds < 0 and nanos > 0):
        raise InvalidArgument(field, "seconds and nanos must have the same sign")
    return timedelta(seconds=seconds, microseconds=int(nanos / 1000))
