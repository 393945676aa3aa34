"""A refused call with an oversize id is still audited, with the id cut to a
bounded length: the whole id made the audit batch larger than NATS takes
(1 MB), so the record was lost, and with it every record sharing its batch."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest

from alongside.api.matcher.v1 import matcher_pb2 as pb
from alongside.api.matcher.v1 import matcher_pb2_grpc
from alongside.kit.audit import MAX_OBJECT_ID
from alongside.kit.runtime import Runtime
from alongside.kit.testing.auth import channel

from ..matcher.conftest import NOW, start_matcher
from .test_audit import records


@pytest.fixture
async def matcher(nats_url: str, redis_url: str, namespace: str) -> AsyncIterator[Runtime]:
    runtime = await start_matcher(nats_url, redis_url, namespace, lambda: NOW)
    yield runtime
    await runtime.stop()


async def test_an_oversize_id_is_audited_cut_short(matcher: Runtime) -> None:
    address = f"127.0.0.1:{matcher.port}"
    async with channel(address, role="intake", subject="i-1") as chan:
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await matcher_pb2_grpc.MatcherServiceStub(chan).GetIntake(pb.GetIntakeRequest(request_id="r" * 2_000_000))
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    trail = await records(matcher, 1, actor="i-1")  # once relayed from the outbox
    assert [(r.outcome, r.object_id) for r in trail] == [("INVALID_ARGUMENT", "r" * MAX_OBJECT_ID)]
