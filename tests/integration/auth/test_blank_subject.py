"""A token always names someone: a peer token whose subject is empty or blank
(minted by hand, bypassing the minter) reaches nobody's sessions."""

from __future__ import annotations

import time
import uuid

import grpc
import jwt
import pytest

from alongside.api.scheduler.v1 import scheduler_pb2 as pb
from alongside.api.scheduler.v1 import scheduler_pb2_grpc
from alongside.kit.auth.client import bearer_channel
from alongside.kit.testing.auth import TEST_SECRET

from ..scheduler.conftest import Scheduler, utc


def hand_made(subject: str, role: str = "peer") -> str:
    now = int(time.time())
    claims = {"iss": "alongside", "aud": "alongside", "sub": subject, "role": role, "iat": now, "exp": now + 600}
    return jwt.encode(claims, TEST_SECRET, algorithm="HS256")


@pytest.mark.parametrize("subject", ["", " ", "\t\n"])
async def test_a_peer_token_without_a_subject_lists_no_ones_sessions(scheduler: Scheduler, subject: str) -> None:
    peers = [f"pa-{uuid.uuid4().hex[:8]}", f"pb-{uuid.uuid4().hex[:8]}"]
    for day, peer_id in enumerate(peers, start=2):
        await scheduler.peer(peer_id)
        await scheduler.book(f"k-{peer_id}", peer_id, utc(2027, 3, day, 15))
    target = f"127.0.0.1:{scheduler.runtime.port}"
    async with bearer_channel(target, hand_made(subject)) as chan:
        stub = scheduler_pb2_grpc.SchedulerServiceStub(chan)
        for request in (pb.ListSessionsRequest(), pb.ListSessionsRequest(peer_id=subject)):
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                reply = await stub.ListSessions(request)
                pytest.fail(f"listed {len(reply.sessions)} sessions with a blank subject")
            assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
            assert "subject" in (refused.value.details() or "")
