"""A durable consumer that hands each message on the moment it arrives.

Two departures from the kit's ``Consumer``, both candidates for the kit:

- Arrival. The kit fetches batches with nats-py's ``fetch(64, timeout=1)``;
  when the consumer is idle that call holds the first message until the batch
  fills or the second runs out, so a lone event waits up to a second. Here one
  pull request of ``batch`` is open at a time and each message is handled the
  moment it arrives, up to ``in_flight`` concurrently.
- No seen-record. The kit writes one per event so a redelivery after a crash
  between handling and ack is skipped. The notifier's handler is idempotent by
  itself (the notification record, checked in the same atomic step that
  writes), so the record's two round trips per event are dropped.

Everything else is the kit's: durable config, ack only after success, nak with
backoff, ``in_progress`` heartbeats, dead letters.
"""

from __future__ import annotations

import asyncio
import contextlib
import json

import redis.asyncio as aioredis
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js import JetStreamContext

from alongside.kit.events.consumer import Consumer, ConsumerSpec, Handler, Permanent
from alongside.kit.events.envelope import Event
from alongside.kit.events.streams import stream_name
from alongside.kit.logging import correlation, get_logger
from alongside.kit.redis import Keys

log = get_logger(__name__)
EXPIRES_S = 1.0  # an idle puller renews its request this often


class ContinuousConsumer(Consumer):
    def __init__(
        self,
        nc: Client,
        js: JetStreamContext,
        r: aioredis.Redis,
        keys: Keys,
        namespace: str,
        spec: ConsumerSpec,
        handler: Handler,
        *,
        in_flight: int,
    ) -> None:
        super().__init__(js, r, keys, namespace, spec, handler)
        self._nc, self._namespace = nc, namespace
        self._slots = asyncio.Semaphore(in_flight)
        self._tasks: set[asyncio.Task[None]] = set()

    async def run(self, stop: asyncio.Event) -> None:
        stream = stream_name(self._namespace, self.spec.stream)
        await self._js.add_consumer(stream, self._config())
        inbox = self._nc.new_inbox()
        sub = await self._nc.subscribe(inbox)
        next_subject = f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{self.spec.durable}"
        try:
            while not stop.is_set():
                request = {"batch": self.spec.batch, "expires": int(EXPIRES_S * 1e9)}
                await self._nc.publish(next_subject, json.dumps(request).encode(), reply=inbox)
                await self._receive(sub, stop)
        finally:
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
            except TimeoutError:
                return
            if JetStreamContext.is_status_msg(msg):  # 408 expired, 404/409: this request is over
                return
            received += 1
            await self._slots.acquire()
            task = asyncio.create_task(self.handle(msg))
            self._tasks.add(task)
            task.add_done_callback(self._done)

    async def handle(self, msg: Msg) -> None:
        try:
            event = Event.from_headers(dict(msg.headers or {}), msg.data)
        except ValueError:
            await self._dead_letter(msg, "not_a_cloudevent")
            return
        with correlation(event.correlation_id or event.id, event_id=event.id, event_type=event.type):
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
            await msg.ack()
            self.handled += 1

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._slots.release()
        if not task.cancelled() and (exc := task.exception()) is not None:
            # handle() settles every message itself; this is Redis or NATS
            # failing mid-way. Unacked, the message comes back after ack_wait.
            log.warning("consumer.handle_failed", durable=self.spec.durable, error=type(exc).__name__)
