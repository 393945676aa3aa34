"""A caller's correlation id follows its call: into the call's log lines
(with the RPC and the caller's role), its events and its audit record, and
no further."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from alongside.api.audit.v1 import audit_pb2, audit_pb2_grpc
from alongside.api.matcher.v1 import matcher_pb2 as pb
from alongside.api.matcher.v1 import matcher_pb2_grpc
from alongside.kit import logging as kit_logging
from alongside.kit.testing.auth import channel

from .conftest import Matcher, intake, peer

CORRELATION = "corr-follow-1"


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    saved = logging.getLogger().handlers[:]
    out = io.StringIO()
    kit_logging.configure("matcher", "info", stream=out)
    yield out
    structlog.reset_defaults()
    logging.getLogger().handlers[:] = saved


async def test_the_callers_correlation_id_follows_the_call(matcher: Matcher, log_lines: io.StringIO) -> None:
    await matcher.stub.UpsertPeer(pb.UpsertPeerRequest(idempotency_key="c-up", peer=peer("c-p1")))
    metadata = [("x-correlation-id", CORRELATION)]
    async with channel(f"127.0.0.1:{matcher.runtime.port}", role="intake", subject="staff-c") as chan:
        reply = await matcher_pb2_grpc.MatcherServiceStub(chan).SubmitMatchRequest(intake("c-1"), metadata=metadata)
    kit_logging.get_logger().info("after.the.call")

    lines = [json.loads(line) for line in log_lines.getvalue().splitlines()]
    (rpc,) = [line for line in lines if line.get("event") == "rpc" and line.get("correlation_id") == CORRELATION]
    assert rpc["rpc"] == rpc["method"] == "/alongside.matcher.v1.MatcherService/SubmitMatchRequest"
    assert rpc["role"] == "intake" and rpc["code"] == "OK"
    (after,) = [line for line in lines if line.get("event") == "after.the.call"]
    assert "correlation_id" not in after and "role" not in after  # nothing leaks past the call

    request_id = reply.request.request_id
    events = [e for e in await matcher.events("match") if e.subject == request_id]
    assert {e.type for e in events} >= {"match.requested", "match.shortlisted"}
    assert all(e.correlation_id == CORRELATION for e in events)
    async with channel(f"127.0.0.1:{matcher.runtime.port}", role="manager", subject="m-c") as chan:
        trail = await audit_pb2_grpc.AuditServiceStub(chan).ListAuditRecords(
            audit_pb2.ListAuditRecordsRequest(object_id=request_id)
        )
    assert [r.correlation_id for r in trail.records] == [CORRELATION]

