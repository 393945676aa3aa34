"""A booking whose commit ran but whose reply was lost: the batch is re-sent, still one booking.

A real scheduler process talks to Valkey through a TCP proxy
(``ReplyCutter``) that lets BookSession's commit function through, lets
Valkey run it (the session, its indexes, reminders, its ``session.booked``
outbox entry and the idempotency record, all or nothing), then drops the
reply and cuts the connection. The scheduler's group commit re-sends the
batch on a new connection; the function answers as a replay of the booking
it has just stored, and the call answers OK with that booking. Once more
with both replies lost: the call answers UNAVAILABLE and the caller's retry
with the same idempotency key gets the booking the first attempt stored.

Either way: one session for the participant, one ``session.booked`` on the
stream, relayed at once (not at the relay's next sweep, 10 s later).
"""

from __future__ import annotations

import asyncio
import uuid

import grpc
import nats
import pytest

from alongside.api.matcher.v1 import events_pb2 as matcher_ev
from alongside.api.matcher.v1 import matcher_pb2
from alongside.api.scheduler.v1 import scheduler_pb2 as pb
from alongside.api.scheduler.v1 import scheduler_pb2_grpc
from alongside.kit.events.envelope import Event
from alongside.kit.events.streams import provision
from alongside.kit.redis import Keys, client
from alongside.kit.testing.auth import AUTH_ENV, channel
from alongside.kit.testing.processes import Child
from alongside.kit.testing.proxy import ReplyCutter
from alongside.kit.testing.wait import eventually
from alongside.scheduler.adapters.functions import COMMIT

from .conftest import EVERY_DAY, stream_events

PROMPTLY_S = 5.0  # well inside the relay's sweep interval (10 s)


@pytest.mark.parametrize("lost", [1, 2], ids=["resent-by-the-writer", "retried-by-the-caller"])
async def test_a_lost_commit_reply_still_books_exactly_once(
    nats_url: str, redis_url: str, namespace: str, lost: int
) -> None:
    run = uuid.uuid4().hex[:8]
    peer_id, key = f"p-{run}", f"bk-{run}"
    r = client(redis_url)
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    await provision(js, namespace)
    async with ReplyCutter(redis_url) as proxy:
        env = {**AUTH_ENV, "NATS_URL": nats_url, "REDIS_URL": proxy.url, "NAMESPACE": namespace}
        service = await asyncio.to_thread(Child, "alongside.scheduler", env)
        try:
            upserted = matcher_ev.PeerUpserted(
                peer_id=peer_id,
                status=matcher_pb2.PEER_STATUS_ACTIVE,
                time_zone="UTC",
                availability=EVERY_DAY,
                version=1,
            )
            event = Event.of("peer.upserted", "/alongside/matcher", upserted, subject=peer_id)
            await js.publish(event.nats_subject(namespace), event.body, headers=event.headers())
            calendar = Keys(namespace, "scheduler").key(f"peer:{peer_id}", "cal")

            async def known() -> bool:
                return await r.hget(calendar, "av") is not None

            await eventually(known, timeout=15, what="the peer's calendar")

            request = pb.BookSessionRequest(idempotency_key=key, peer_id=peer_id, participant_ref=f"ref-{run}")
            async with channel(f"127.0.0.1:{service.port}", role="admin") as chan:
                stub = scheduler_pb2_grpc.SchedulerServiceStub(chan)
                proxy.arm(COMMIT.name.encode(), times=lost)
                if lost == 1:
                    reply = await stub.BookSession(request, timeout=10)
                else:
                    with pytest.raises(grpc.aio.AioRpcError) as refused:
                        await stub.BookSession(request, timeout=10)
                    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
                    reply = await stub.BookSession(request, timeout=10)  # same idempotency key
                assert proxy.cut == lost  # Valkey ran the commit and its answer never came back
                session_ids = [reply.session.session_id]
                listed = await stub.ListSessions(pb.ListSessionsRequest(peer_id=peer_id), timeout=10)
                assert [s.session_id for s in listed.sessions] == session_ids  # one booking, the one answered

                async def booked() -> list[str]:
                    return [
                        e.subject for e in await stream_events(js, namespace, "session") if e.type == "session.booked"
                    ]

                async def relayed() -> bool:
                    return bool(await booked())

                await eventually(relayed, timeout=PROMPTLY_S, what="session.booked relayed")
        finally:
            await asyncio.to_thread(service.close)
    try:
        assert await booked() == session_ids  # exactly one event, for that session
    finally:
        await nc.close()
        await r.aclose()
