"""The kit's consumer dead-letters a body that does not decode at once, for
every handler, however long its backoff: no retry can make it parse."""

from __future__ import annotations

from alongside.api.matcher.v1 import events_pb2
from alongside.kit.events.consumer import UNDECODABLE, Consumer
from alongside.kit.events.envelope import Event
from alongside.kit.events.streams import stream_name
from alongside.kit.testing.wait import eventually

from ..conftest import Kit
from .test_consumer import DLQ, MATCH, run, spec

JUNK = b"\xff\xfenot-a-protobuf"


async def test_an_undecodable_body_is_dead_lettered_on_the_first_delivery(kit: Kit) -> None:
    calls = 0

    async def handler(event: Event) -> None:
        nonlocal calls
        calls += 1
        event.parse(events_pb2.MatchDeclined)

    # A 30 s backoff: a single retry would blow the deadline below.
    consumer = Consumer(
        kit.nc, kit.js, kit.redis, kit.keys, kit.namespace, spec(max_deliver=6, backoff_base_s=30.0), handler
    )
    stop, task = await run(consumer)
    event = Event(type="match.declined", source="/test", body=JUNK, schema="alongside.matcher.v1.MatchDeclined")
    await kit.js.publish(event.nats_subject(kit.namespace), JUNK, headers=event.headers())
    dlq = stream_name(kit.namespace, DLQ)

    async def dead() -> bool:
        return (await kit.js.stream_info(dlq)).state.messages == 1

    await eventually(dead, timeout=10.0, what="the undecodable event in the DLQ")
    stop.set()
    await task
    copy = await kit.js.get_msg(dlq, (await kit.js.stream_info(dlq)).state.first_seq)
    assert copy.headers is not None
    assert copy.headers["alongside-dlq-reason"] == UNDECODABLE
    assert copy.headers["alongside-dlq-attempts"] == "1"
    assert copy.headers["ce-id"] == event.id and copy.data == JUNK
    assert calls == 1 and consumer.dead_lettered == 1
    info = await kit.js.consumer_info(stream_name(kit.namespace, MATCH), "test-consumer")
    assert info.num_ack_pending == 0 and info.num_redelivered == 0
