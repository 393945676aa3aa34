"""A NATS outage of more than two minutes: a service's consumers and relay resume by themselves.

nats-py gives up after 60 reconnect attempts by default (about two minutes);
the services reconnect forever (``alongside.kit.nats``). Here a real
scheduler process loses its nats-server (kill -9) for 130 s. Meanwhile it
keeps booking (the event waits in the outbox). Then nats-server starts again
on the same port and JetStream store, and nobody touches the scheduler:

- the booking made during the outage reaches the stream (the relay resumed);
- a peer.upserted and a match.accepted published after the restart are
  consumed, and the first session is booked by itself (the pull consumers
  resumed), its session.booked on the stream.

It takes more than two minutes, so it is marked ``long`` and runs under
``make test-slow`` (``pytest -m long``), not in ``make test``.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid

import pytest
from google.protobuf.message import Message

from alongside.api.matcher.v1 import events_pb2 as matcher_ev
from alongside.api.matcher.v1 import matcher_pb2
from alongside.api.scheduler.v1 import events_pb2 as ev
from alongside.api.scheduler.v1 import scheduler_pb2 as pb
from alongside.api.scheduler.v1 import scheduler_pb2_grpc
from alongside.kit import nats as kit_nats
from alongside.kit.events.envelope import Event
from alongside.kit.events.streams import provision
from alongside.kit.redis import Keys, client
from alongside.kit.testing.auth import AUTH_ENV, channel
from alongside.kit.testing.processes import Child
from alongside.kit.testing.servers import NatsServer
from alongside.kit.testing.wait import eventually

from .conftest import EVERY_DAY, stream_events

OUTAGE_S = 130.0  # past nats-py's default give-up point (60 attempts, about 2 minutes)


async def publish(url: str, namespace: str, kind: str, body: Message, subject: str) -> None:
    nc = await kit_nats.connect(url, "test")
    try:
        event = Event.of(kind, "/alongside/matcher", body, subject=subject)
        await nc.jetstream().publish(event.nats_subject(namespace), event.body, headers=event.headers())
    finally:
        await nc.close()


def upserted(peer_id: str) -> matcher_ev.PeerUpserted:
    return matcher_ev.PeerUpserted(
        peer_id=peer_id, status=matcher_pb2.PEER_STATUS_ACTIVE, time_zone="UTC", availability=EVERY_DAY, version=1
    )


@pytest.mark.long
async def test_a_service_resumes_consuming_and_relaying_after_a_nats_outage_of_over_two_minutes(
    own_nats: NatsServer, redis_url: str, namespace: str
) -> None:
    run = uuid.uuid4().hex[:8]
    before, after, match_id = f"pa-{run}", f"pb-{run}", f"m-{run}"
    r = client(redis_url)
    nc = await kit_nats.connect(own_nats.url, "test")
    await provision(nc.jetstream(), namespace)
    await nc.close()
    env = {**AUTH_ENV, "NATS_URL": own_nats.url, "REDIS_URL": redis_url, "NAMESPACE": namespace}
    service = await asyncio.to_thread(Child, "alongside.scheduler", env)

    async def calendar_of(peer_id: str) -> None:
        key = Keys(namespace, "scheduler").key(f"peer:{peer_id}", "cal")

        async def known() -> bool:
            return await r.hget(key, "av") is not None

        await eventually(known, timeout=60, interval=0.2, what=f"the calendar of {peer_id}")

    try:
        await publish(own_nats.url, namespace, "peer.upserted", upserted(before), before)
        await calendar_of(before)
        port = own_nats.port
        assert own_nats.proc is not None
        os.kill(own_nats.proc.pid, signal.SIGKILL)
        own_nats.stop()  # reaps it
        down_since = time.monotonic()

        async with channel(f"127.0.0.1:{service.port}", role="admin") as chan:
            stub = scheduler_pb2_grpc.SchedulerServiceStub(chan)
            booking = pb.BookSessionRequest(idempotency_key=f"k-{run}", peer_id=before, participant_ref=f"r-{run}")
            during = (await stub.BookSession(booking, timeout=10)).session.session_id  # NATS down: still OK

            await asyncio.sleep(max(0.0, OUTAGE_S - (time.monotonic() - down_since)))  # the outage itself
            own_nats.start()
            assert own_nats.port == port  # same address, same JetStream store

            await publish(own_nats.url, namespace, "peer.upserted", upserted(after), after)
            await calendar_of(after)  # the peer consumer resumed
            accepted = matcher_ev.MatchAccepted(
                match_id=match_id,
                request_id=f"req-{run}",
                peer_id=after,
                participant_ref=f"ref-{run}",
                urgency=matcher_pb2.URGENCY_ROUTINE,
                participant_time_zone="UTC",
                participant_availability=EVERY_DAY,
                session_minutes=60,
            )
            await publish(own_nats.url, namespace, "match.accepted", accepted, match_id)

            nc = await kit_nats.connect(own_nats.url, "test")
            js = nc.jetstream()
            try:

                async def both_booked() -> bool:
                    booked = [e for e in await stream_events(js, namespace, "session") if e.type == "session.booked"]
                    matches = {e.parse(ev.SessionBooked).match_id for e in booked}
                    return during in {e.subject for e in booked} and match_id in matches

                await eventually(both_booked, timeout=60, interval=0.2, what="both sessions' events on the stream")
            finally:
                await nc.close()
            listed = await stub.ListSessions(pb.ListSessionsRequest(peer_id=after), timeout=10)
            assert [s.match_id for s in listed.sessions] == [match_id]  # booked by itself, once
    finally:
        await asyncio.to_thread(service.close)
        await r.aclose()
