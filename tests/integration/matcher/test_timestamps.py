"""A Timestamp outside protobuf's range is INVALID_ARGUMENT naming the field
(it was INTERNAL: ``ToDatetime`` raised on it), and nothing is stored."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from alongside.api.matcher.v1 import matcher_pb2 as pb

from .conftest import Matcher, intake, peer, upsert

OUT_OF_RANGE = [
    Timestamp(seconds=2_500_000_000_000),
    Timestamp(seconds=1_900_000_000, nanos=-7),
    Timestamp(seconds=-(2**62)),
    Timestamp(seconds=1_900_000_000, nanos=1_000_000_000),
]


@pytest.mark.parametrize(
    "stamp", OUT_OF_RANGE, ids=["seconds-2.5e12", "nanos-minus-7", "seconds-huge-negative", "nanos-1e9"]
)
async def test_out_of_range_consent_expiry_is_invalid_argument(matcher: Matcher, stamp: Timestamp) -> None:
    await upsert(matcher, peer("p1"))
    consent = pb.Consent(scope="peer-support", recipients=["assigned-peer"], form_ref="f-1", expires_at=stamp)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await matcher.stub.SubmitMatchRequest(intake("ts-bad", consent=consent))
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert (info.value.details() or "").startswith("consent.expires_at:"), info.value.details()
    assert not (await matcher.stub.ListWaitlist(pb.ListWaitlistRequest())).requests
    assert await matcher.events("match") == []
