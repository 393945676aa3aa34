"""A three-node NATS cluster with R3 streams: a node (the stream's leader)
killed with SIGKILL while events flow loses no event the outbox relay had
acknowledged, and the consumer carries on by itself.

Real processes: the services' client connects by the seed list, the relay
publishes from a real outbox, a durable consumer reads; the leader of the
stream is killed in the middle.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter

from alongside.api.matcher.v1 import events_pb2
from alongside.kit import nats as kit_nats
from alongside.kit.events.consumer import Consumer, ConsumerSpec
from alongside.kit.events.envelope import Event
from alongside.kit.events.outbox import Outbox, OutboxRelay
from alongside.kit.events.streams import CATALOGUE, provision, stream_name
from alongside.kit.redis import Keys, client
from alongside.kit.testing.cluster import NatsCluster
from alongside.kit.testing.wait import eventually
from alongside.kit.uow import Tx, UnitOfWork

MATCH = next(s for s in CATALOGUE if s.name == "MATCH")


async def test_killing_the_stream_leader_loses_no_relayed_event(
    nats_cluster: NatsCluster, redis_url: str, namespace: str
) -> None:
    nc = await kit_nats.connect(nats_cluster.url, "test")
    js = nc.jetstream()
    await provision(js, namespace, replicas=3)
    r = client(redis_url)
    keys = Keys(namespace, "test")
    outbox = Outbox(r, keys)
    uow = UnitOfWork(r, keys, outbox)
    relay = OutboxRelay(r, js, outbox, keys, namespace)
    handled: Counter[str] = Counter()

    async def handler(event: Event) -> None:
        handled[event.parse(events_pb2.MatchDeclined).request_id] += 1

    spec = ConsumerSpec("cluster", MATCH, ("match.declined",), ack_wait_s=2.0)
    consumer = Consumer(nc, js, r, keys, namespace, spec, handler)
    committed: list[str] = []
    stop, enough = asyncio.Event(), asyncio.Event()

    async def produce() -> None:
        i = 0
        while not enough.is_set():
            request_id = f"r{i}"
            event = Event.of("match.declined", "/t", events_pb2.MatchDeclined(request_id=request_id, peer_id="p"))

            async def body(tx: Tx, request_id: str = request_id, event: Event = event) -> bytes:
                tx.begin()
                tx.pipe.set(keys.key(request_id, "state"), b"declined")
                tx.emit(request_id, event)
                return b"ok"

            await uow.run(body)
            committed.append(request_id)
            i += 1
            await asyncio.sleep(0.02)

    tasks = [asyncio.create_task(t) for t in (relay.run(stop), consumer.run(stop), produce())]
    try:
        await eventually(lambda: len(handled) >= 30, timeout=30, what="events before the fault")
        info = await js.stream_info(stream_name(namespace, MATCH))
        assert info.cluster is not None and len(info.cluster.replicas or []) == 2  # R3
        leader = next(node for node in nats_cluster.nodes if node.node_name == info.cluster.leader)
        leader.kill()
        seen_at_kill = len(committed)
        await eventually(lambda: len(committed) >= seen_at_kill + 60, timeout=30, what="writes after the kill")
        enough.set()
        await eventually(
            lambda: all(request_id in handled for request_id in committed),
            timeout=40,
            what="every committed event handled after the leader died",
        )
        after = await js.stream_info(stream_name(namespace, MATCH))
        assert after.cluster is not None and after.cluster.leader != leader.node_name
    finally:
        enough.set()
        stop.set()
        for task in tasks:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, 10)
    try:
        doubled = [request_id for request_id, count in handled.items() if count > 1]
        assert not doubled, f"handled twice: {doubled[:5]}"
        # Each committed event is in the stream once: the relay's retries were deduplicated.
        relayed = await js.stream_info(stream_name(namespace, MATCH))
        assert relayed.state.messages == len(committed)
    finally:
        with contextlib.suppress(Exception):
            await nc.close()
        await r.aclose()
