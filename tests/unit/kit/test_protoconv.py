"""Checked Timestamp and Duration conversions: protobuf's ranges, the field named."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp

from alongside.kit import protoconv
from alongside.kit.errors import InvalidArgument


def test_instants_inside_protobufs_range_convert_to_the_microsecond() -> None:
    assert protoconv.timestamp("t", Timestamp(seconds=0, nanos=1_500)) == datetime(1970, 1, 1, 0, 0, 0, 1, tzinfo=UTC)
    assert protoconv.timestamp("t", Timestamp(seconds=protoconv.MIN_SECONDS)) == datetime(1, 1, 1, tzinfo=UTC)
    top = protoconv.timestamp("t", Timestamp(seconds=protoconv.MAX_SECONDS, nanos=999_999_999))
    assert top == datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC)


@pytest.mark.parametrize(
    "stamp",
    [
        Timestamp(seconds=2_500_000_000_000),
        Timestamp(seconds=protoconv.MAX_SECONDS + 1),
        Timestamp(seconds=protoconv.MIN_SECONDS - 1),
        Timestamp(seconds=-(2**63)),
        Timestamp(seconds=2**63 - 1),
        Timestamp(seconds=10, nanos=-7),
        Timestamp(seconds=10, nanos=-1),
        Timestamp(seconds=10, nanos=1_000_000_000),
    ],
)
def test_instants_outside_are_invalid_and_name_the_field(stamp: Timestamp) -> None:
    with pytest.raises(InvalidArgument) as info:
        protoconv.timestamp("consent.expires_at", stamp)
    assert info.value.field == "consent.expires_at"
    assert str(stamp.seconds) not in info.value.message


def test_durations_inside_convert() -> None:
    assert protoconv.duration("d", Duration(seconds=90, nanos=500_000)) == timedelta(seconds=90, microseconds=500)
    assert protoconv.duration("d", Duration(seconds=-1, nanos=-500_000_000)) == timedelta(seconds=-1.5)
    assert protoconv.duration("d", Duration(nanos=-5_000)) == timedelta(microseconds=-5)


@pytest.mark.parametrize(
    "length",
    [
        Duration(seconds=protoconv.MAX_DURATION_SECONDS + 1),
        Duration(seconds=-protoconv.MAX_DURATION_SECONDS - 1),
        Duration(seconds=1, nanos=-1),
        Duration(seconds=-1, nanos=1),
        Duration(nanos=1_000_000_000),
        Duration(seconds=2**63 - 1),
    ],
)
def test_durations_outside_are_invalid(length: Duration) -> None:
    with pytest.raises(InvalidArgument) as info:
        protoconv.duration("policy.hold", length)
    assert info.value.field == "policy.hold"
