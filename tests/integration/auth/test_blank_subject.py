"""A token always names someone: a peer token whose subject is empty or blank
(minted by hand, bypassing the minter) reaches nobody's sessions."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from alongside.api.scheduler.v1 import scheduler_pb2 as pb
from alongside.api.scheduler.v1 import scheduler_pb2_grpc
from alongside.kit.auth.client import bearer_channel
from alongside.kit.runtime import Runtime
from alongside.kit.testing.auth import TEST_SECRET

from ..scheduler.conftest import Clock, Scheduler, settings_for, start_scheduler, utc


def hand_made(subject: str, role: str = "peer", key: object = TEST_SECRET, algorithm: str = "HS256") -> str:
    now = int(time.time())
    claims = {"iss": "alongside", "aud": "alongside", "sub": subject, "role": role, "iat": now, "exp": now + 600}
    return jwt.encode(claims, key, algorithm=algorithm)  # type: ignore[arg-type]


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


@pytest.fixture
async def ed25519_scheduler(
    nats_url: str, redis_url: str, namespace: str, tmp_path: Path
) -> AsyncIterator[tuple[Runtime, ed25519.Ed25519PrivateKey]]:
    """A scheduler that verifies tokens by an Ed25519 public key, as in production."""
    private = ed25519.Ed25519PrivateKey.generate()
    pem = private.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    (tmp_path / "auth.pub").write_bytes(pem)
    settings = settings_for(nats_url, redis_url, namespace, auth_public_keys=(str(tmp_path / "auth.pub"),))
    runtime = await start_scheduler(settings, Clock())
    yield runtime, private
    await runtime.stop()


@pytest.mark.parametrize("role", ["peer", "intake", "manager", "admin"])
async def test_an_ed25519_token_without_a_subject_is_refused_for_every_role(
    ed25519_scheduler: tuple[Runtime, ed25519.Ed25519PrivateKey], role: str
) -> None:
    runtime, private = ed25519_scheduler
    target = f"127.0.0.1:{runtime.port}"
    for subject, expected in (("", grpc.StatusCode.UNAUTHENTICATED), ("p-1", grpc.StatusCode.OK)):
        async with bearer_channel(target, hand_made(subject, role, private, "EdDSA")) as chan:
            stub = scheduler_pb2_grpc.SchedulerServiceStub(chan)
            try:
                await stub.ListSessions(pb.ListSessionsRequest(peer_id="p-1"))
                code = grpc.StatusCode.OK
            except grpc.aio.AioRpcError as exc:
                code = exc.code()
        assert code == expected, (subject, role)
