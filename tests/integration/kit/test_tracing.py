"""Trace context through the outbox: stored with the entry when the
transaction commits, published by the relay in a span of that trace, and
continued by the consumer's span (real Valkey and NATS)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from opentelemetry.trace import SpanKind

from alongside.api.matcher.v1 import events_pb2
from alongside.kit import tracing
from alongside.kit.events.consumer import Consumer, ConsumerSpec
from alongside.kit.events.envelope import Event
from alongside.kit.events.outbox import OutboxRelay
from alongside.kit.events.streams import CATALOGUE
from alongside.kit.testing.spans import recording
from alongside.kit.testing.wait import eventually
from alongside.kit.uow import Tx

from ..conftest import Kit

MATCH = next(s for s in CATALOGUE if s.name == "MATCH")
SPEC = ConsumerSpec(durable="traced", stream=MATCH, events=("match.declined",), ack_wait_s=2.0)


async def commit(kit: Kit, request_id: str) -> None:
    async def body(tx: Tx) -> bytes:
        tx.begin()
        tx.pipe.set(kit.keys.key("req", request_id), b"declined")
        event = Event.of("match.declined", "/test", events_pb2.MatchDeclined(request_id=request_id, peer_id="p1"))
        tx.emit("req", event)
        return b"ok"

    await kit.uow.run(body)


async def stored_headers(kit: Kit) -> dict[str, str]:
    entries: Any = await kit.redis.xrange(kit.outbox.key("req"))
    assert len(entries) == 1
    headers: dict[str, str] = json.loads(entries[0][1][b"headers"])
    return headers


async def test_the_consumer_continues_the_trace_that_committed_the_event(kit: Kit) -> None:
    handled: list[tuple[str, str] | None] = []

    async def handler(event: Event) -> None:
        handled.append(tracing.current_ids())

    with recording() as exported:
        with tracing.span("AcceptMatch", SpanKind.SERVER) as root:
            await commit(kit, "r-traced")
        trace_id = format(root.get_span_context().trace_id, "032x")
        root_id = format(root.get_span_context().span_id, "016x")

        # Committed with the writer's context, before any relay ran.
        traceparent = (await stored_headers(kit))["traceparent"]
        assert traceparent.startswith(f"00-{trace_id}-{root_id}-")

        relay = OutboxRelay(kit.redis, kit.js, kit.outbox, kit.keys, kit.namespace)
        assert await relay.drain(sweep=True) == 1
        consumer = Consumer(kit.nc, kit.js, kit.redis, kit.keys, kit.namespace, SPEC, handler)
        stop = asyncio.Event()
        task = asyncio.create_task(consumer.run(stop))
        await eventually(lambda: consumer.handled == 1, what="the event handled")
        stop.set()
        await task
        spans = {s.name: s for s in exported.get_finished_spans()}

    publish, process = spans["publish match.declined"], spans["process match.declined"]
    assert publish.kind is SpanKind.PRODUCER and process.kind is SpanKind.CONSUMER
    # One trace: the commit's span -> the relay's publish -> the consumer.
    assert {s.context.trace_id for s in (publish, process)} == {root.get_span_context().trace_id}
    assert publish.parent is not None and publish.parent.span_id == root.get_span_context().span_id
    assert process.parent is not None and process.parent.span_id == publish.context.span_id
    assert process.attributes is not None and process.attributes["alongside.outcome"] == "handled"
    assert handled == [(trace_id, format(process.context.span_id, "016x"))]
    # The transaction is one span (not one per command), inside the call's trace.
    transaction = spans["MULTI/EXEC"]
    assert transaction.parent is not None and transaction.parent.span_id == root.get_span_context().span_id


async def test_with_tracing_off_events_carry_no_trace_context(kit: Kit) -> None:
    await commit(kit, "r-untraced")
    headers = await stored_headers(kit)
    assert "traceparent" not in headers and "tracestate" not in headers
    assert tracing.current_ids() is None


async def test_an_event_outside_any_trace_is_published_without_a_span(kit: Kit) -> None:
    with recording() as exported:
        await commit(kit, "r-background")  # no current span: a background loop's write
        assert "traceparent" not in await stored_headers(kit)
        relay = OutboxRelay(kit.redis, kit.js, kit.outbox, kit.keys, kit.namespace)
        assert await relay.drain(sweep=True) == 1
        # Neither a publish span nor Valkey spans start traces of their own.
        assert exported.get_finished_spans() == ()


async def test_a_trace_that_is_not_sampled_travels_on_without_spans(kit: Kit) -> None:
    """At 10 % sampling nine calls in ten: no span is made anywhere along the
    way, yet the context reaches the consumer, so its own events stay in the
    caller's (unsampled) trace rather than starting sampled ones."""
    trace_id, caller = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    seen: list[tuple[str, str] | None] = []

    async def handler(event: Event) -> None:
        seen.append(tracing.current_ids())

    with recording() as exported:
        with tracing.continued({"traceparent": f"00-{trace_id}-{caller}-00"}, "AcceptMatch", SpanKind.SERVER):
            await commit(kit, "r-unsampled")
        assert (await stored_headers(kit))["traceparent"] == f"00-{trace_id}-{caller}-00"
        relay = OutboxRelay(kit.redis, kit.js, kit.outbox, kit.keys, kit.namespace)
        assert await relay.drain(sweep=True) == 1
        consumer = Consumer(kit.nc, kit.js, kit.redis, kit.keys, kit.namespace, SPEC, handler)
        stop = asyncio.Event()
        task = asyncio.create_task(consumer.run(stop))
        await eventually(lambda: consumer.handled == 1, what="the event handled")
        stop.set()
        await task
        assert exported.get_finished_spans() == ()
    assert seen == [(trace_id, caller)]
