"""Transactional outbox: the event is written in the same atomic Redis
transaction as the state change, then relayed to JetStream.

Outboxes are Redis streams, one per hash tag, so the append always shares a
slot with the state it describes. The writer tells its relay which outboxes
it touched (a hint, no extra round trip: in memory, or down a pipe to a relay
process, see ``relay_process``); a periodic SCAN sweep finds the rest, such
as those a crashed replica left behind. The
relay publishes each entry, waits for the PubAck, and only then deletes it;
``Nats-Msg-Id`` makes a re-publish after a crash a no-op inside the stream's
duplicate window.

Each entry keeps the trace context of the transaction that wrote it (the
event's ``traceparent`` header). With tracing on, the relay's publish is a
span in that trace, and the headers it publishes carry the publish span's
context, so the consumer's span follows it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterable
from typing import Any

import redis.asyncio as aioredis
from nats.js import JetStreamContext
from nats.js.api import PubAck
from opentelemetry.trace import SpanKind

from alongside.kit import metrics, tracing
from alongside.kit.aio import wait_any
from alongside.kit.events.envelope import Event
from alongside.kit.functions import Function, fcall
from alongside.kit.logging import get_logger
from alongside.kit.redis import Keys

log = get_logger(__name__)

# Trim what was published; drop the stream once empty so sweeps stay cheap.
# It only frees memory, so it runs even when Valkey is out of memory.
TRIM = Function(
    "alongside_kit_outbox_trim",
    """
redis.call('XDEL', KEYS[1], unpack(ARGV))
if redis.call('XLEN', KEYS[1]) == 0 then redis.call('DEL', KEYS[1]) end
return 0
""",
    flags=("allow-oom",),
)
_BATCH = 256
_ACK_TIMEOUT_S = 5.0


class Outbox:
    """The writer's side: append inside a transaction, then hint the relay."""

    def __init__(self, r: aioredis.Redis, keys: Keys) -> None:
        self._r = r
        self._keys = keys
        self.pending: set[str] = set()
        self.wakeup = asyncio.Event()
        # Called after each commit that left entries in ``pending``: wakes the
        # inline relay, or (``relay_process``) hands the keys to the child.
        self.on_commit: Callable[[], None] = self.wakeup.set

    def key(self, tag: str) -> str:
        return self._keys.key(tag, "outbox")

    def append(self, pipe: aioredis.client.Pipeline, tag: str, event: Event) -> None:
        """Queue the event on ``pipe`` (which must be inside MULTI)."""
        pipe.xadd(self.key(tag), self.fields(event))

    @staticmethod
    def fields(event: Event) -> dict[Any, Any]:
        return {"type": event.type, "body": event.body, "headers": json.dumps(event.headers())}

    async def committed(self, tags: Iterable[str]) -> None:
        keys = {self.key(tag) for tag in tags}
        if keys:
            self.pending |= keys
            self.on_commit()


class OutboxRelay:
    """Publishes outbox entries to JetStream, at least once, in order per tag."""

    def __init__(
        self,
        r: aioredis.Redis,
        js: JetStreamContext,
        outbox: Outbox,
        keys: Keys,
        namespace: str,
        *,
        poll_s: float = 0.5,
        sweep_s: float = 10.0,
        on_published: Callable[[int], None] = metrics.EVENTS_PUBLISHED.inc,
        on_failure: Callable[[], None] = metrics.RELAY_FAILURES.inc,
        linger_s: float = 0.0,
    ) -> None:
        self._r, self._js, self._outbox, self._keys = r, js, outbox, keys
        self._namespace = namespace
        self._poll_s, self._sweep_s = poll_s, sweep_s
        self._on_published, self._on_failure = on_published, on_failure
        # Wait this long after a wake-up, so one pass takes what the next commits add.
        self._linger_s = linger_s
        self.published = 0

    async def run(self, stop: asyncio.Event) -> None:
        last_sweep = -self._sweep_s
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            sweep = loop.time() - last_sweep >= self._sweep_s
            try:
                await self.drain(sweep=sweep)
                if sweep:
                    last_sweep = loop.time()
            except Exception as exc:  # noqa: BLE001 - keep relaying whatever failed
                log.warning("outbox.relay_failed", error=type(exc).__name__)
                self._on_failure()
                await wait_any((stop,), self._poll_s * 4)
                continue
            if not self._outbox.pending:
                await wait_any((stop, self._outbox.wakeup), self._poll_s)
            if self._linger_s:
                await asyncio.sleep(self._linger_s)
            self._outbox.wakeup.clear()

    async def drain(self, *, sweep: bool = False) -> int:
        """Relay every pending entry; return how many were published."""
        keys, self._outbox.pending = self._outbox.pending, set()
        if sweep:
            keys |= {_text(k) async for k in self._r.scan_iter(match=self._keys.pattern("outbox"), count=1000)}
        count = 0
        for key in sorted(keys):
            try:
                count += await self._drain_key(key)
            except BaseException:
                self._outbox.pending.add(key)
                raise
        return count

    async def _drain_key(self, key: str) -> int:
        count = 0
        while entries := await self._r.xrange(key, count=_BATCH):
            # One connection keeps publish order; acks are awaited together.
            await self._settle([await self._publish(fields) for _, fields in entries])
            await fcall(self._r, TRIM.name, [key], [entry_id or b"" for entry_id, _ in entries])
            count += len(entries)
            if len(entries) < _BATCH:
                break
        self.published += count
        if count:
            self._on_published(count)
        return count

    async def _publish(self, fields: Any) -> asyncio.Future[PubAck]:
        headers = json.loads(fields[b"headers"])
        event_type = fields[b"type"].decode()
        subject = f"{self._namespace}.{event_type}"
        if not tracing.enabled() or tracing.TRACEPARENT not in headers:
            ack: asyncio.Future[PubAck] = await self._js.publish_async(subject, fields[b"body"], headers=headers)
            return ack
        # One span per publish, from the send to its PubAck, in the writer's trace
        # (none in a trace that is not sampled: the headers carry the writer's context on).
        span = tracing.start(f"publish {event_type}", headers, SpanKind.PRODUCER, _publish_attributes(event_type))
        if not span.is_recording():
            ack = await self._js.publish_async(subject, fields[b"body"], headers=headers)
            return ack
        tracing.inject(headers, span)
        try:
            ack = await self._js.publish_async(subject, fields[b"body"], headers=headers)
        except BaseException as exc:
            tracing.failed(span, exc)
            span.end()
            raise
        ack.add_done_callback(lambda done: _acked(span, done))
        return ack

    @staticmethod
    async def _settle(acks: list[asyncio.Future[PubAck]]) -> None:
        """Wait for every PubAck; raise (so nothing is trimmed) unless all came back."""
        _, late = await asyncio.wait(acks, timeout=_ACK_TIMEOUT_S)
        for ack in late:
            ack.cancel()
        if late:
            raise TimeoutError(f"{len(late)} of {len(acks)} publishes were not acknowledged")
        for ack in acks:
            ack.result()  # a refused publish raises here


def _publish_attributes(event_type: str) -> dict[str, str]:
    return {"messaging.system": "nats", "messaging.operation.type": "send", "alongside.event.type": event_type}


def _acked(span: Any, ack: asyncio.Future[PubAck]) -> None:
    """End a publish span when its PubAck comes back (or does not)."""
    if ack.cancelled():
        tracing.failed(span, TimeoutError())
    elif (error := ack.exception()) is not None:
        tracing.failed(span, error)
    span.end()


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
