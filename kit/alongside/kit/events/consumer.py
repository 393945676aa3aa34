"""Durable JetStream pull consumers that handle each event once.

- explicit ack, only after the handler succeeded;
- an idempotency record per (consumer, event id), so a redelivery after a
  crash between handling and ack is skipped;
- ``nak`` with exponential backoff on failure, ``in_progress`` heartbeats
  while a slow handler runs;
- after ``max_deliver`` attempts (or at once for ``Permanent`` errors, and
  for a body that does not decode: a protobuf ``DecodeError`` from the
  handler) the message is copied to the dead-letter stream and terminated.
Shared durables let several replicas split the work.

Messages are pulled continuously: one pull request of ``batch`` is open at a
time and each message is handed on the moment it arrives (a batched
``fetch`` would hold a lone event until the batch filled or timed out), up
to ``in_flight`` at once. ``in_flight=1`` keeps the stream's order.

With tracing on, handling an event is a consumer span that continues the
trace in the event's ``traceparent`` header (the publisher's), named after
the event type, with the outcome as an attribute.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import redis.asyncio as aioredis
from google.protobuf.message import DecodeError
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.errors import ConnectionClosedError
from nats.errors import TimeoutError as NatsTimeout
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from opentelemetry.trace import SpanKind

from alongside.kit import metrics, tracing
from alongside.kit.events.envelope import Event
from alongside.kit.events.streams import StreamSpec, stream_name
from alongside.kit.logging import correlation, get_logger
from alongside.kit.redis import Keys

log = get_logger(__name__)
SEEN_TTL_S = 14 * 24 * 3600
EXPIRES_S = 1.0  # an idle consumer renews its pull request this often
UNDECODABLE = "undecodable_body"  # the DLQ reason for a body that does not parse

Handler = Callable[[Event], Awaitable[None]]


class Permanent(Exception):
    """The event can never be handled (malformed, unknown version): dead-letter it now."""


@dataclass(frozen=True)
class ConsumerSpec:
    durable: str
    stream: StreamSpec
    events: tuple[str, ...]  # event types, e.g. ("match.accepted",)
    max_deliver: int = 5
    ack_wait_s: float = 30.0
    backoff_base_s: float = 0.5
    backoff_max_s: float = 30.0
    batch: int = 64
    # Messages handled at once by this process; 1 keeps the stream's order.
    in_flight: int = 1
    # A handler that is idempotent by itself (its own record, checked in the
    # same atomic write) may skip the per-event seen-record's round trips.
    seen_record: bool = True


class Consumer:
    def __init__(
        self,
        nc: Client,
        js: JetStreamContext,
        r: aioredis.Redis,
        keys: Keys,
        namespace: str,
        spec: ConsumerSpec,
        handler: Handler,
    ) -> None:
        self._nc, self._js, self._r, self._keys, self._ns = nc, js, r, keys, namespace
        self.spec, self._handler = spec, handler
        self.handled = 0
        self.dead_lettered = 0
        self._slots = asyncio.Semaphore(spec.in_flight)
        self._tasks: set[asyncio.Task[None]] = set()

    def _config(self) -> ConsumerConfig:
        return ConsumerConfig(
            durable_name=self.spec.durable,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            ack_wait=self.spec.ack_wait_s,
            # Headroom above our own limit, so a crash during the last
            # attempt still gets a delivery that can dead-letter it.
            max_deliver=self.spec.max_deliver + 2,
            filter_subjects=[f"{self._ns}.{t}" for t in self.spec.events],
            max_ack_pending=1000,
        )

    async def run(self, stop: asyncio.Event) -> None:
        stream = stream_name(self._ns, self.spec.stream)
        await self._js.add_consumer(stream, self._config())
        inbox = self._nc.new_inbox()
        sub = await self._nc.subscribe(inbox)
        next_subject = f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{self.spec.durable}"
        try:
            while not stop.is_set():
                request = {"batch": self.spec.batch, "expires": int(EXPIRES_S * 1e9)}
                try:
                    await self._nc.publish(next_subject, json.dumps(request).encode(), reply=inbox)
                except (ConnectionClosedError, OSError) as exc:
                    log.warning("consumer.pull_failed", durable=self.spec.durable, error=type(exc).__name__)
                    await asyncio.sleep(0.5)
                    continue
                await self._receive(sub, stop)
        finally:
            # Finish what is in flight; what is not acked comes back after ack_wait.
            await asyncio.gather(*self._tasks, return_exceptions=True)
            with contextlib.suppress(Exception):
                await sub.unsubscribe()

    async def _receive(self, sub: Subscription, stop: asyncio.Event) -> None:
        """Hand on the messages of one pull request until it is used up or expires."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + EXPIRES_S + 1.0  # a request lost in a reconnect ends here
        received = 0
        while received < self.spec.batch and not stop.is_set():
            try:
                msg = await sub.next_msg(timeout=max(0.01, deadline - loop.time()))
            except (TimeoutError, NatsTimeout, ConnectionClosedError):
                return
            if JetStreamContext.is_status_msg(msg):  # 408 expired, 404/409: this request is over
                return
            received += 1
            await self._slots.acquire()
            task = asyncio.create_task(self.handle(msg))
            self._tasks.add(task)
            task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._slots.release()
        if not task.cancelled() and (exc := task.exception()) is not None:
            # handle() settles each message itself; this is Redis or NATS failing
            # mid-way. Unacked, the message comes back after ack_wait.
            log.warning("consumer.handle_failed", durable=self.spec.durable, error=type(exc).__name__)

    def _seen_key(self, event_id: str) -> str:
        return self._keys.key(f"seen:{self.spec.durable}", event_id)

    async def handle(self, msg: Msg) -> None:
        try:
            event = Event.from_headers(dict(msg.headers or {}), msg.data)
        except ValueError:
            await self._dead_letter(msg, "not_a_cloudevent")
            return
        attributes = {
            "messaging.system": "nats",
            "messaging.operation.type": "process",
            "messaging.consumer.group.name": self.spec.durable,
            "alongside.event.type": event.type,
        }
        with (
            tracing.continued(event.headers(), f"process {event.type}", SpanKind.CONSUMER, attributes),
            correlation(event.correlation_id or event.id, event_id=event.id, event_type=event.type),
        ):
            await self._handle(msg, event)

    async def _handle(self, msg: Msg, event: Event) -> None:
        if self.spec.seen_record and await self._r.exists(self._seen_key(event.id)):
            await msg.ack()
            self._count("duplicate")
            return
        heartbeat = asyncio.create_task(self._heartbeat(msg))
        try:
            await self._handler(event)
        except Permanent as exc:
            await self._dead_letter(msg, type(exc).__name__)
            return
        except DecodeError:
            # A body that does not decode never will: no retry can help.
            await self._dead_letter(msg, UNDECODABLE)
            return
        except Exception as exc:  # noqa: BLE001 - any failure is retried
            await self._retry(msg, exc)
            return
        finally:
            heartbeat.cancel()
        if self.spec.seen_record:
            await self._r.set(self._seen_key(event.id), b"1", ex=SEEN_TTL_S)
        await msg.ack()
        self.handled += 1
        self._count("handled")

    def _count(self, outcome: str) -> None:
        metrics.EVENTS_CONSUMED.labels(self.spec.durable, outcome).inc()
        tracing.annotate("alongside.outcome", outcome)

    async def _heartbeat(self, msg: Msg) -> None:
        while True:
            await asyncio.sleep(self.spec.ack_wait_s / 3)
            await msg.in_progress()

    async def _retry(self, msg: Msg, exc: Exception) -> None:
        attempt = msg.metadata.num_delivered or 1
        if attempt >= self.spec.max_deliver:
            await self._dead_letter(msg, type(exc).__name__)
            return
        delay = min(self.spec.backoff_max_s, self.spec.backoff_base_s * 2 ** (attempt - 1))
        log.warning(
            "consumer.retry", durable=self.spec.durable, attempt=attempt, delay_s=delay, error=type(exc).__name__
        )
        await msg.nak(delay=delay)
        self._count("retried")

    async def _dead_letter(self, msg: Msg, reason: str) -> None:
        headers = dict(msg.headers or {})
        original_id = headers.get("Nats-Msg-Id", f"{msg.metadata.stream}-{msg.metadata.sequence.stream}")
        headers.update(
            {
                "Nats-Msg-Id": f"dlq:{self.spec.durable}:{original_id}",
                "alongside-dlq-consumer": self.spec.durable,
                "alongside-dlq-subject": msg.subject,
                "alongside-dlq-reason": reason,
                "alongside-dlq-attempts": str(msg.metadata.num_delivered or 1),
            }
        )
        attributes = {"messaging.system": "nats", "messaging.operation.type": "send", "alongside.event.type": "dlq"}
        with tracing.span("publish dlq", SpanKind.PRODUCER, attributes):
            await self._js.publish(f"{self._ns}.dlq.{self.spec.durable}", msg.data, headers=headers)
        await msg.term()
        self.dead_lettered += 1
        self._count("dead_lettered")
        log.error("consumer.dead_lettered", durable=self.spec.durable, reason=reason)
