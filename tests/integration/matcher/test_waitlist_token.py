"""Found by the fuzz suite: a waiting-list page token past int64 reached
Redis (ZRANGE refused it) and answered INTERNAL; a negative one paged from
the end. Both are INVALID_ARGUMENT naming page_token."""

from __future__ import annotations

import grpc
import pytest

from alongside.api.matcher.v1 import matcher_pb2 as pb

from .conftest import Matcher


@pytest.mark.parametrize("token", ["99999999999999999999", "-1"])
async def test_an_out_of_range_waitlist_token_is_invalid(matcher: Matcher, token: str) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await matcher.stub.ListWaitlist(pb.ListWaitlistRequest(page_token=token))
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert (info.value.details() or "").startswith("page_token:")
