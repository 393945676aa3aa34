"""A matcher on a clock the test moves, and a notifier in the same namespace,
so the matcher's consent events reach the notifier as in production."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from alongside.api.matcher.v1 import matcher_pb2 as pb
from alongside.api.matcher.v1 import matcher_pb2_grpc
from alongside.kit.testing.auth import channel

from ..matcher.conftest import NOW, Matcher, intake, peer, start_matcher, upsert
from ..notifier.conftest import smtp_sink, start_notifier  # noqa: F401  (fixtures used by the tests)
from ..notifier.harness import FakeClock

ADDRESS = "127.0.0.1:{port}"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
async def matcher(nats_url: str, redis_url: str, namespace: str, clock: FakeClock) -> AsyncIterator[Matcher]:
    runtime = await start_matcher(nats_url, redis_url, namespace, clock)
    async with channel(ADDRESS.format(port=runtime.port), role="admin") as chan:
        yield Matcher(runtime, matcher_pb2_grpc.MatcherServiceStub(chan), namespace)
    await runtime.stop()


def consent(*recipients: str, days: float | None = 30) -> pb.Consent:
    given = pb.Consent(scope="peer-support", recipients=list(recipients), form_ref="form-1")
    if days is not None:
        expires = Timestamp()
        expires.FromDatetime(NOW + timedelta(days=days))
        given.expires_at.CopyFrom(expires)
    return given


async def matched(m: Matcher, key: str, peer_id: str, given: pb.Consent | None) -> pb.Match:
    """A match between ``peer_id`` and a new participant who gave ``given``."""
    await upsert(m, peer(peer_id))
    extra = {"consent": given} if given is not None else {}
    submitted = await m.stub.SubmitMatchRequest(intake(key, **extra))
    reply = await m.stub.AcceptMatch(
        pb.AcceptMatchRequest(idempotency_key=f"acc-{key}", request_id=submitted.request.request_id, peer_id=peer_id)
    )
    match: pb.Match = reply.match
    return match


async def assignment_as(m: Matcher, match_id: str, role: str, subject: str) -> pb.Assignment:
    async with channel(ADDRESS.format(port=m.runtime.port), role=role, subject=subject) as chan:
        stub = matcher_pb2_grpc.MatcherServiceStub(chan)
        reply = await stub.GetAssignment(pb.GetAssignmentRequest(match_id=match_id))
    assignment: pb.Assignment = reply.assignment
    return assignment
