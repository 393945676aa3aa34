"""Found by the fuzz suite: reading an empty audit trail (a fresh
deployment) answered INTERNAL, because an empty stream reports first_seq 0
and message 0 does not exist (JetStream: BadRequestError)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from alongside.api.audit.v1 import audit_pb2, audit_pb2_grpc
from alongside.kit.runtime import Runtime
from alongside.kit.testing.auth import channel

from ..matcher.conftest import NOW, start_matcher


@pytest.fixture
async def matcher(nats_url: str, redis_url: str, namespace: str) -> AsyncIterator[Runtime]:
    runtime = await start_matcher(nats_url, redis_url, namespace, lambda: NOW)
    yield runtime
    await runtime.stop()


async def test_an_empty_trail_lists_no_records(matcher: Runtime) -> None:
    async with channel(f"127.0.0.1:{matcher.port}", role="manager", subject="m-1") as chan:
        reply = await audit_pb2_grpc.AuditServiceStub(chan).ListAuditRecords(audit_pb2.ListAuditRecordsRequest())
    assert list(reply.records) == [] and reply.next_page_token == ""
