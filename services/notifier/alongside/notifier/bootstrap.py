"""Composition root: wires the notifier's adapters into a runtime. Nothing
connects until the runtime starts.

``build`` takes a clock (tests pass a controllable one, so quiet hours need
no waiting) and, optionally, senders to use instead of SMTP and webhooks.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import timedelta

import redis.asyncio as aioredis
from grpc import aio

from alongside.api.notifier.v1 import notifier_pb2, notifier_pb2_grpc
from alongside.kit.durable import connect_blocking
from alongside.kit.events.consumer import Consumer
from alongside.kit.logging import get_logger
from alongside.kit.runtime import Deps, Runtime
from alongside.notifier.adapters.creator import NotificationCreator
from alongside.notifier.adapters.due_index import DueIndex
from alongside.notifier.adapters.erasures import ErasureStore
from alongside.notifier.adapters.functions import LIBRARY
from alongside.notifier.adapters.inbox_reader import InboxReader
from alongside.notifier.adapters.keys import NotifierKeys
from alongside.notifier.adapters.revocations import RevocationStore
from alongside.notifier.adapters.smtp import EmailSender
from alongside.notifier.adapters.store import NotificationStore
from alongside.notifier.adapters.webhook import WebhookSender
from alongside.notifier.domain.model import Channel
from alongside.notifier.entrypoints.bounds import BOUNDS
from alongside.notifier.entrypoints.consumers import make_consumers
from alongside.notifier.entrypoints.grpc_api import NotifierServicer
from alongside.notifier.entrypoints.policy import AUDITED, POLICY
from alongside.notifier.service.attempt import Attempt
from alongside.notifier.service.delivery import DeliveryWorker
from alongside.notifier.service.erasure import Erasures
from alongside.notifier.service.hooks import CrashHook
from alongside.notifier.service.inbox import Inbox
from alongside.notifier.service.model import Clock, system_clock
from alongside.notifier.service.notify import Notify
from alongside.notifier.service.ports import Sender
from alongside.notifier.service.preferences import Preferences
from alongside.notifier.service.revocation import Revocations
from alongside.notifier.settings import NotifierSettings

SERVICE_NAME = notifier_pb2.DESCRIPTOR.services_by_name["NotifierService"].full_name
log = get_logger(__name__)
Loop = Callable[[asyncio.Event], Awaitable[None]]


class Notifier:
    """Builds the use cases once the runtime has connected."""

    def __init__(self, settings: NotifierSettings, clock: Clock, senders: Mapping[Channel, Sender] | None) -> None:
        self.settings, self.clock = settings, clock
        self._senders = senders
        self.notify: Notify | None = None
        self.revocations: Revocations | None = None
        self.erasures: Erasures | None = None

    def register(self, deps: Deps, server: aio.Server) -> Sequence[str]:
        s, clock = self.settings, self.clock
        keys = NotifierKeys(deps.keys)
        store = NotificationStore(deps.redis, keys)
        creator = NotificationCreator(
            deps.redis, keys, deps.outbox, inbox_max=s.inbox_max_items, retention=timedelta(days=s.retention_days)
        )
        due = DueIndex(deps.redis, keys)
        crash = CrashHook(s.test_hook_crash_at, s.test_hook_stall_at)
        self.notify = Notify(creator, store, due, clock, crash, announce_inbox=s.inbox_sent_events)
        self.revocations = Revocations(deps.uow, RevocationStore(deps.redis, keys), due, clock)
        self.erasures = Erasures(deps.uow, ErasureStore(deps.redis, keys), due)
        senders = dict(self._senders) if self._senders is not None else self._real_senders()
        attempt = Attempt(deps.uow, store, due, senders, s.retry_policy(), clock, crash)
        worker = DeliveryWorker(
            due,
            attempt,
            clock,
            concurrency=s.delivery_concurrency,
            lease=timedelta(seconds=s.delivery_lease_seconds),
            poll_s=s.delivery_poll_seconds,
            sweep_s=s.delivery_sweep_seconds,
        )
        # redis-py fails (rather than waits) past its pool limit, 100 by default;
        # consumers, jobs and RPCs each hold up to two connections at once.
        deps.redis.connection_pool.max_connections = s.redis_max_connections
        # Watch streams block on their own pool, so waiting watchers never starve the rest.
        watch_redis = connect_blocking(s.redis_url, s.watch_max_streams, s.redis_tls())  # a server or Sentinels
        draining = asyncio.Event()
        deps.tasks += [_deliver(worker, senders), _on_stop(draining, watch_redis, s.watch_block_ms)]
        preferences = Preferences(
            deps.uow, store, allow_loopback_webhook=s.webhook_allow_loopback, webhook_enabled=Channel.WEBHOOK in senders
        )
        reader = InboxReader(deps.redis, keys, watch_redis)
        inbox = Inbox(deps.uow, store, reader, clock, block_ms=s.watch_block_ms, draining=draining)
        notifier_pb2_grpc.add_NotifierServiceServicer_to_server(NotifierServicer(preferences, inbox), server)
        return (SERVICE_NAME,)

    def consumers(self, deps: Deps) -> Sequence[Consumer]:
        assert self.notify is not None and self.revocations is not None, "register runs first"
        assert self.erasures is not None
        return make_consumers(deps, self.settings, self.notify, self.revocations, self.erasures)

    def _real_senders(self) -> dict[Channel, Sender]:
        s = self.settings
        senders: dict[Channel, Sender] = {Channel.EMAIL: EmailSender(s, self.clock)}
        if s.webhook_enabled:
            senders[Channel.WEBHOOK] = WebhookSender(s.webhook_secret, s.webhook_timeout_seconds)
        else:
            log.warning("webhook.disabled", why="WEBHOOK_SECRET is not set")
        return senders


def _deliver(worker: DeliveryWorker, senders: Mapping[Channel, Sender]) -> Loop:
    async def run(stop: asyncio.Event) -> None:
        try:
            await worker.run(stop)
        finally:
            if stop.is_set():
                for sender in senders.values():
                    await sender.close()

    return run


def _on_stop(draining: asyncio.Event, watch_redis: aioredis.Redis, block_ms: int) -> Loop:
    async def run(stop: asyncio.Event) -> None:
        await stop.wait()
        draining.set()  # open Watch streams end after their current wait
        await asyncio.sleep(block_ms / 1000 + 0.1)
        await watch_redis.aclose()

    return run


def build(
    settings: NotifierSettings, *, clock: Clock = system_clock, senders: Mapping[Channel, Sender] | None = None
) -> Runtime:
    notifier = Notifier(settings, clock, senders)
    return Runtime(
        settings,
        notifier.register,
        notifier.consumers,
        policies=[POLICY],
        audited=AUDITED,
        functions=[LIBRARY],
        bounds=BOUNDS,
    )
