"""A little real state per service before fuzzing, so generated calls can
name peers, requests, matches, sessions and notifications that exist (their
ids go into the strategies' pool) and reach past NOT_FOUND."""

from __future__ import annotations

from datetime import UTC, datetime

from alongside.api.matcher.v1 import events_pb2 as matcher_events
from alongside.api.matcher.v1 import matcher_pb2 as mpb
from alongside.api.matcher.v1 import matcher_pb2_grpc
from alongside.api.notifier.v1 import notifier_pb2 as npb
from alongside.api.notifier.v1 import notifier_pb2_grpc
from alongside.api.scheduler.v1 import scheduler_pb2 as spb
from alongside.api.scheduler.v1 import scheduler_pb2_grpc
from alongside.kit.events.envelope import Event
from alongside.kit.testing.auth import channel
from alongside.kit.testing.wait import eventually

from ..matcher.conftest import MON_FRI_9_17, intake, peer
from ..notifier.harness import accepted
from ..scheduler.conftest import ts
from .harness import Target, remember_ids

PEERS = ("p1", "p2")


async def seed(target: Target) -> None:
    await SEEDS[target.name](target)


async def _matcher(target: Target) -> None:
    async with channel(f"127.0.0.1:{target.runtime.port}") as chan:
        stub = matcher_pb2_grpc.MatcherServiceStub(chan)
        for peer_id in PEERS:
            await stub.UpsertPeer(mpb.UpsertPeerRequest(idempotency_key=f"seed-{peer_id}", peer=peer(peer_id)))
        first = await stub.SubmitMatchRequest(intake("seed-a"))
        remember_ids(first)
        remember_ids(await stub.SubmitMatchRequest(intake("seed-b")))
        match = await stub.AcceptMatch(
            mpb.AcceptMatchRequest(idempotency_key="seed-acc", request_id=first.request.request_id, peer_id="p1")
        )
        remember_ids(match)


async def _publish(target: Target, event: Event) -> None:
    await target.js.publish(event.nats_subject(target.namespace), event.body, headers=event.headers())


async def _scheduler(target: Target) -> None:
    deps = target.runtime.deps
    assert deps is not None
    for peer_id in PEERS:
        body = matcher_events.PeerUpserted(
            peer_id=peer_id,
            status=mpb.PEER_STATUS_ACTIVE,
            time_zone="America/New_York",
            availability=MON_FRI_9_17,
            version=1,
        )
        await _publish(target, Event.of("peer.upserted", "/alongside/matcher", body, subject=peer_id))
        key = deps.keys.key(f"peer:{peer_id}", "cal")

        async def arrived(key: str = key) -> bool:
            return bool(await deps.redis.hget(key, "av"))

        await eventually(arrived, what=f"calendar of {peer_id}")
    async with channel(f"127.0.0.1:{target.runtime.port}") as chan:
        stub = scheduler_pb2_grpc.SchedulerServiceStub(chan)
        start = ts(datetime(2027, 3, 2, 15, tzinfo=UTC))  # Tuesday 10:00 in New York
        booked = await stub.BookSession(
            spb.BookSessionRequest(idempotency_key="seed-book", peer_id="p1", participant_ref="ref-1", start=start)
        )
        remember_ids(booked)


async def _notifier(target: Target) -> None:
    await _publish(target, accepted("p1", match_id="m-1"))
    async with channel(f"127.0.0.1:{target.runtime.port}") as chan:
        stub = notifier_pb2_grpc.NotifierServiceStub(chan)

        async def listed() -> bool:
            reply = await stub.ListNotifications(npb.ListNotificationsRequest(peer_id="p1"))
            remember_ids(reply)
            return bool(reply.notifications)

        await eventually(listed, what="the seed notification")


SEEDS = {"matcher": _matcher, "scheduler": _scheduler, "notifier": _notifier}
