"""kill -9 of a service between its state commit and the publish.

A matcher process (``OUTBOX_RELAY=inline``: the relay is a task in the same
process) answers UpsertPeer while its NATS server is stopped (SIGSTOP), so the
change and its event are committed to Valkey but the relay cannot get a
PubAck. The process is then killed with SIGKILL and NATS resumed. Whatever
the dead process's last publish did when NATS read it from the socket, a new
matcher process finds the entry with its first sweep and relays it: exactly
one peer.upserted on the stream (``Nats-Msg-Id`` drops a second copy), and a
durable consumer downstream handles it exactly once.
"""

from __future__ import annotations

import asyncio
import os
import signal
import uuid

import nats
from nats.js.errors import NotFoundError

from alongside.api.matcher.v1 import matcher_pb2 as pb
from alongside.api.matcher.v1 import matcher_pb2_grpc
from alongside.kit.events.consumer import Consumer, ConsumerSpec
from alongside.kit.events.envelope import Event
from alongside.kit.events.streams import CATALOGUE, provision, stream_name
from alongside.kit.redis import Keys, client
from alongside.kit.testing.auth import AUTH_ENV, channel
from alongside.kit.testing.processes import Child
from alongside.kit.testing.servers import NatsServer
from alongside.kit.testing.wait import eventually

from .conftest import peer

PEER = next(s for s in CATALOGUE if s.aggregate == "peer")


async def test_a_service_killed_after_its_commit_publishes_once_after_restart(
    own_nats: NatsServer, redis_url: str, namespace: str
) -> None:
    env = {**AUTH_ENV, "NATS_URL": own_nats.url, "REDIS_URL": redis_url, "NAMESPACE": namespace}
    env["OUTBOX_RELAY"] = "inline"
    peer_id = f"kc-{uuid.uuid4().hex[:8]}"
    r = client(redis_url)
    nc = await nats.connect(own_nats.url)
    js = nc.jetstream()
    await provision(js, namespace)
    outbox = Keys(namespace, "matcher").pattern("outbox")
    first = await asyncio.to_thread(Child, "alongside.matcher", env)
    try:
        assert own_nats.proc is not None
        os.kill(own_nats.proc.pid, signal.SIGSTOP)  # the relay cannot get a PubAck now
        try:
            async with channel(f"127.0.0.1:{first.port}", role="admin") as chan:
                stub = matcher_pb2_grpc.MatcherServiceStub(chan)
                await stub.UpsertPeer(pb.UpsertPeerRequest(idempotency_key=peer_id, peer=peer(peer_id)), timeout=10)
            entries = [await r.xlen(key) async for key in r.scan_iter(match=outbox)]
            assert sum(entries) >= 1  # committed with its event, not yet trimmed
            await asyncio.to_thread(first.stop, kill=True)  # kill -9 between the commit and the publish
        finally:
            os.kill(own_nats.proc.pid, signal.SIGCONT)

        second = await asyncio.to_thread(Child, "alongside.matcher", env)  # its first pass sweeps every outbox
        try:

            async def relayed() -> bool:
                return not [key async for key in r.scan_iter(match=outbox)]

            await eventually(relayed, timeout=20, what="the restarted matcher to relay the outbox")
        finally:
            await asyncio.to_thread(second.close)

        name = stream_name(namespace, PEER)
        info = await js.stream_info(name)
        subjects = []
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            raw = await js.get_msg(name, seq)
            subjects.append(Event.from_headers(dict(raw.headers or {}), raw.data or b"").subject)
        assert subjects == [peer_id]  # exactly one event on the stream

        handled: list[str] = []

        async def handler(event: Event) -> None:
            handled.append(event.subject)

        spec = ConsumerSpec(durable="proof-downstream", stream=PEER, events=("peer.upserted",), max_deliver=3)
        consumer = Consumer(nc, js, r, Keys(namespace, "downstream"), namespace, spec, handler)
        stop = asyncio.Event()
        task = asyncio.create_task(consumer.run(stop))
        try:

            async def acked() -> bool:
                try:
                    state = await js.consumer_info(name, "proof-downstream")
                except NotFoundError:
                    return False
                return state.ack_floor.stream_seq >= info.state.last_seq and state.num_ack_pending == 0

            await eventually(acked, timeout=15, what="the downstream consumer to acknowledge")
        finally:
            stop.set()
            await task
        assert handled == [peer_id]  # and exactly one delivery downstream
    finally:
        await asyncio.to_thread(first.close)
        await nc.close()
        await r.aclose()
