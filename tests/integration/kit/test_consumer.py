"""The durable consumer: once per event, retries with backoff, dead letters."""

from __future__ import annotations

import asyncio

from nats.aio.msg import Msg

from alongside.api.matcher.v1 import events_pb2
from alongside.kit.events.consumer import Consumer, ConsumerSpec, Permanent
from alongside.kit.events.envelope import Event
from alongside.kit.events.streams import CATALOGUE, stream_name
from alongside.kit.testing.wait import eventually

from ..conftest import Kit

MATCH = next(s for s in CATALOGUE if s.name == "MATCH")
DLQ = next(s for s in CATALOGUE if s.name == "DLQ")


async def publish(kit: Kit, request_id: str, *, event_id: str | None = None) -> Event:
    event = Event.of("match.declined", "/test", events_pb2.MatchDeclined(request_id=request_id, peer_id="p"))
    if event_id:
        event = Event(**{**event.__dict__, "id": event_id})
    await kit.js.publish(event.nats_subject(kit.namespace), event.body, headers=event.headers())
    return event


def spec(**overrides: object) -> ConsumerSpec:
    base: dict[str, object] = {
        "durable": "test-consumer",
        "stream": MATCH,
        "events": ("match.declined",),
        "max_deliver": 3,
        "ack_wait_s": 1.0,
        "backoff_base_s": 0.05,
    }
    return ConsumerSpec(**{**base, **overrides})  # type: ignore[arg-type]


async def run(consumer: Consumer) -> tuple[asyncio.Event, asyncio.Task[None]]:
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    return stop, task


async def test_handles_each_event_and_acks(kit: Kit) -> None:
    seen: list[str] = []

    async def handler(event: Event) -> None:
        seen.append(event.parse(events_pb2.MatchDeclined).request_id)

    consumer = Consumer(kit.nc, kit.js, kit.redis, kit.keys, kit.namespace, spec(), handler)
    stop, task = await run(consumer)
    for i in range(5):
        await publish(kit, f"r{i}")
    await eventually(lambda: len(seen) == 5)
    stop.set()
    await task
    assert seen == [f"r{i}" for i in range(5)]
    info = await kit.js.consumer_info(stream_name(kit.namespace, MATCH), "test-consumer")
    assert info.num_ack_pending == 0


async def test_redelivery_after_lost_ack_is_not_handled_twice(kit: Kit) -> None:
    calls: list[str] = []

    async def handler(event: Event) -> None:
        calls.append(event.id)

    lost_once = False
    deliveries = 0

    class CrashBeforeAck(Consumer):
        async def handle(self, msg: Msg) -> None:
            nonlocal lost_once, deliveries
            deliveries += 1
            if not lost_once:
                lost_once = True
                real_ack = msg.ack

                async def lost_ack() -> None:  # the process dies before the ack lands
                    msg.ack = real_ack  # type: ignore[method-assign]
                    raise ConnectionError("crashed before ack")

                msg.ack = lost_ack  # type: ignore[method-assign]
                try:
                    await super().handle(msg)
                except ConnectionError:
                    return
                return
            await super().handle(msg)

    consumer = CrashBeforeAck(kit.nc, kit.js, kit.redis, kit.keys, kit.namespace, spec(), handler)
    stop, task = await run(consumer)
    await publish(kit, "r-once")
    # JetStream redelivers after ack_wait; the idempotency record skips it.
    await eventually(lambda: deliveries == 2)

    async def acked() -> bool:  # the second delivery's ack reaches the server after it is handled
        info = await kit.js.consumer_info(stream_name(kit.namespace, MATCH), "test-consumer")
        return info.num_ack_pending == 0

    await eventually(acked, what="the redelivery acknowledged")
    stop.set()
    await task
    assert len(calls) == 1


async def test_duplicate_event_published_twice_is_handled_once(kit: Kit) -> None:
    calls: list[str] = []

    async def handler(event: Event) -> None:
        calls.append(event.id)

    consumer = Consumer(kit.nc, kit.js, kit.redis, kit.keys, kit.namespace, spec(), handler)
    stop, task = await run(consumer)
    first = await publish(kit, "r-dup")
    # Same event id, published again outside JetStream's dedupe (another Nats-Msg-Id).
    headers = {**first.headers(), "Nats-Msg-Id": "other"}
    await kit.js.publish(first.nats_subject(kit.namespace), first.body, headers=headers)
    await publish(kit, "r-after")
    await eventually(lambda: consumer.handled == 2 and len(calls) == 2)
    stop.set()
    await task
    assert calls[0] == first.id


async def test_poison_message_goes_to_dead_letter_after_max_deliver(kit: Kit) -> None:
    attempts = 0

    async def handler(event: Event) -> None:
        nonlocal attempts
        attempts += 1
        raise RuntimeError("always fails")

    consumer = Consumer(kit.nc, kit.js, kit.redis, kit.keys, kit.namespace, spec(max_deliver=3), handler)
    dlq = await kit.js.subscribe(f"{kit.namespace}.dlq.>", ordered_consumer=True)
    stop, task = await run(consumer)
    event = await publish(kit, "r-poison")
    msg = await dlq.next_msg(timeout=15)
    stop.set()
    await task
    assert attempts == 3
    assert msg.headers is not None
    assert msg.headers["alongside-dlq-reason"] == "RuntimeError"
    assert msg.headers["alongside-dlq-attempts"] == "3"
    assert msg.headers["ce-id"] == event.id
    assert msg.data == event.body
    info = await kit.js.stream_info(stream_name(kit.namespace, DLQ))
    assert info.state.messages == 1


async def test_permanent_error_dead_letters_at_once(kit: Kit) -> None:
    async def handler(event: Event) -> None:
        raise Permanent("cannot parse")

    consumer = Consumer(kit.nc, kit.js, kit.redis, kit.keys, kit.namespace, spec(max_deliver=5), handler)
    dlq = await kit.js.subscribe(f"{kit.namespace}.dlq.>", ordered_consumer=True)
    stop, task = await run(consumer)
    await publish(kit, "r-bad")
    msg = await dlq.next_msg(timeout=10)
    stop.set()
    await task
    assert msg.headers is not None and msg.headers["alongside-dlq-attempts"] == "1"


async def test_slow_handler_is_kept_alive_with_in_progress(kit: Kit) -> None:
    calls = 0

    async def handler(event: Event) -> None:
        nonlocal calls
        calls += 1
        await asyncio.sleep(2.5)  # longer than ack_wait (1 s)

    # Two replicas share the durable. Without in_progress heartbeats the
    # message would be redelivered to the idle one while the first still works.
    replicas = [
        Consumer(kit.nc, kit.js, kit.redis, kit.keys, kit.namespace, spec(ack_wait_s=1.0), handler) for _ in range(2)
    ]
    runs = [await run(c) for c in replicas]
    await publish(kit, "r-slow")
    await eventually(lambda: sum(c.handled for c in replicas) == 1, timeout=15)
    for stop, _ in runs:
        stop.set()
    await asyncio.gather(*(task for _, task in runs))
    assert calls == 1
