"""Services ride out a NATS restart: unlimited reconnects, consumers resume."""

from __future__ import annotations

import asyncio

from alongside.api.matcher.v1 import events_pb2
from alongside.kit import nats as kit_nats
from alongside.kit.events.consumer import Consumer, ConsumerSpec
from alongside.kit.events.envelope import Event
from alongside.kit.events.streams import CATALOGUE, provision
from alongside.kit.redis import Keys, client
from alongside.kit.testing.servers import NatsServer
from alongside.kit.testing.wait import eventually

MATCH = next(s for s in CATALOGUE if s.name == "MATCH")


async def test_consumer_resumes_after_nats_restart(own_nats: NatsServer, redis_url: str, namespace: str) -> None:
    nc = await kit_nats.connect(own_nats.url, "test")
    assert nc.options["max_reconnect_attempts"] == -1  # never gives up
    js = nc.jetstream()
    await provision(js, namespace)
    r = client(redis_url)
    seen: list[str] = []

    async def handler(event: Event) -> None:
        seen.append(event.parse(events_pb2.MatchDeclined).request_id)

    spec = ConsumerSpec("resume", MATCH, ("match.declined",), ack_wait_s=2.0)
    consumer = Consumer(nc, js, r, Keys(namespace, "test"), namespace, spec, handler)
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))

    async def publish(request_id: str) -> None:
        event = Event.of("match.declined", "/t", events_pb2.MatchDeclined(request_id=request_id))
        await js.publish(event.nats_subject(namespace), event.body, headers=event.headers())

    await publish("before")
    await eventually(lambda: len(seen) == 1, timeout=20)
    own_nats.stop()
    await eventually(lambda: not nc.is_connected, what="client noticed the outage")
    own_nats.start()  # same port, same JetStream store
    await eventually(lambda: nc.is_connected, timeout=20, what="client reconnected")
    await publish("after")
    await eventually(lambda: len(seen) == 2, timeout=20, what="event after restart handled")
    stop.set()
    await task
    await nc.drain()
    await r.aclose()
    assert seen == ["before", "after"]
