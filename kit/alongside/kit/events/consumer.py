"""Durable JetStream pull consumers that handle each event once.

- explicit ack, only after the handler succeeded;
- an idempotency record per (consumer, event id), so a redelivery after a
  crash between handling and ack is skipped;
- ``nak`` with exponential backoff on failure, ``in_progress`` heartbeats
  while a slow handler runs;
- after ``max_deliver`` attempts (or at once for ``Permanent`` errors) the
  message is copied to the dead-letter stream and terminated.
Shared durables let several replicas split the work.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import redis.asyncio as aioredis
from nats.aio.msg import Msg
from nats.errors import ConnectionClosedError
from nats.errors import TimeoutError as NatsTimeout
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from alongside.kit.events.envelope import Event
from alongside.kit.events.streams import StreamSpec, stream_name
from alongside.kit.logging import correlation, get_logger
from alongside.kit.redis import Keys

log = get_logger(__name__)
SEEN_TTL_S = 14 * 24 * 3600

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


class Consumer:
    def __init__(
        self,
        js: JetStreamContext,
        r: aioredis.Redis,
        keys: Keys,
        namespace: str,
        spec: ConsumerSpec,
        handler: Handler,
    ) -> None:
        self._js, self._r, self._keys, self._ns = js, r, keys, namespace
        self.spec, self._handler = spec, handler
        self.handled = 0
        self.dead_lettered = 0

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
        sub = await self._js.pull_subscribe_bind(self.spec.durable, stream)
        try:
            while not stop.is_set():
                try:
                    msgs = await sub.fetch(self.spec.batch, timeout=1.0)
                except NatsTimeout:
                    continue
                except (ConnectionClosedError, OSError) as exc:
                    log.warning("consumer.fetch_failed", durable=self.spec.durable, error=type(exc).__name__)
                    await asyncio.sleep(0.5)
                    continue
                for msg in msgs:
                    await self.handle(msg)
        finally:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()

    def _seen_key(self, event_id: str) -> str:
        return self._keys.key(f"seen:{self.spec.durable}", event_id)

    async def handle(self, msg: Msg) -> None:
        try:
            event = Event.from_headers(dict(msg.headers or {}), msg.data)
        except ValueError:
            await self._dead_letter(msg, "not_a_cloudevent")
            return
        with correlation(event.correlation_id or event.id, event_id=event.id, event_type=event.type):
            if await self._r.exists(self._seen_key(event.id)):
                await msg.ack()
                return
            heartbeat = asyncio.create_task(self._heartbeat(msg))
            try:
                await self._handler(event)
            except Permanent as exc:
                await self._dead_letter(msg, type(exc).__name__)
                return
            except Exception as exc:  # noqa: BLE001 - any failure is retried
                await self._retry(msg, exc)
                return
            finally:
                heartbeat.cancel()
            await self._r.set(self._seen_key(event.id), b"1", ex=SEEN_TTL_S)
            await msg.ack()
            self.handled += 1

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
        await self._js.publish(f"{self._ns}.dlq.{self.spec.durable}", msg.data, headers=headers)
        await msg.term()
        self.dead_lettered += 1
        log.error("consumer.dead_lettered", durable=self.spec.durable, reason=reason)
