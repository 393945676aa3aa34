"""A peer is never over capacity, under concurrent accepts from many clients
and from several matcher replicas."""

from __future__ import annotations

import asyncio

import grpc

from alongside.api.matcher.v1 import matcher_pb2 as pb
from alongside.api.matcher.v1 import matcher_pb2_grpc
from alongside.kit.testing.auth import channel as auth_channel
from alongside.kit.testing.processes import replicas

from .conftest import Matcher, intake, peer, upsert


async def race(stubs: list[matcher_pb2_grpc.MatcherServiceStub], request_ids: list[str]) -> list[grpc.StatusCode]:
    async def accept(i: int, request_id: str) -> grpc.StatusCode:
        stub = stubs[i % len(stubs)]
        try:
            await stub.AcceptMatch(
                pb.AcceptMatchRequest(idempotency_key=f"race-{i}", request_id=request_id, peer_id="p1")
            )
        except grpc.aio.AioRpcError as exc:
            return exc.code()
        return grpc.StatusCode.OK

    return list(await asyncio.gather(*(accept(i, r) for i, r in enumerate(request_ids))))


async def submit_many(m: Matcher, n: int) -> list[str]:
    ids = []
    for i in range(n):
        request = (await m.stub.SubmitMatchRequest(intake(f"race-req-{i}"))).request
        assert request.candidates[0].peer_id == "p1"
        ids.append(request.request_id)
    return ids


async def test_100_concurrent_accepts_for_the_last_unit(matcher: Matcher) -> None:
    await upsert(matcher, peer("p1", capacity=1))
    request_ids = await submit_many(matcher, 100)
    codes = await race([matcher.stub], request_ids)
    assert codes.count(grpc.StatusCode.OK) == 1
    assert set(codes) <= {grpc.StatusCode.OK, grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.ABORTED}
    assert (await matcher.stub.GetPeer(pb.GetPeerRequest(peer_id="p1"))).peer.load == 1
    accepted = [e for e in await matcher.events("match") if e.type == "match.accepted"]
    assert len(accepted) == 1


async def test_three_replica_processes_never_overfill(matcher: Matcher, nats_url: str, redis_url: str) -> None:
    await upsert(matcher, peer("p1", capacity=3))
    request_ids = await submit_many(matcher, 90)
    env = {"NATS_URL": nats_url, "REDIS_URL": redis_url, "NAMESPACE": matcher.namespace}
    with replicas("alongside.matcher", env, count=2) as ports:
        channels = [auth_channel(f"127.0.0.1:{port}") for port in ports]
        stubs = [matcher.stub, *(matcher_pb2_grpc.MatcherServiceStub(c) for c in channels)]
        codes = await race(stubs, request_ids)
        for channel in channels:
            await channel.close()
    assert codes.count(grpc.StatusCode.OK) == 3
    assert set(codes) <= {grpc.StatusCode.OK, grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.ABORTED}
    assert (await matcher.stub.GetPeer(pb.GetPeerRequest(peer_id="p1"))).peer.load == 3
    accepted = [e for e in await matcher.events("match") if e.type == "match.accepted"]
    assert len(accepted) == 3
