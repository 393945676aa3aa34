"""One delivery attempt: check the job, send, record the outcome.

At most once per event and channel: the SENT state is the idempotency record.
It is checked before sending and written in the same transaction that drops
the job and emits ``notification.sent``, so a worker that dies after that
commit leaves a job that the next claim finds SENT and merely clears. While
Redis is away after a send, that transaction is retried until it lands. A
failure is retried with backoff and jitter; after the last attempt the job
is FAILED, ``notification.failed`` is published and a copy goes to the DLQ.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Mapping
from datetime import datetime

from opentelemetry.trace import SpanKind
from redis.exceptions import RedisError

from alongside.kit import metrics, tracing
from alongside.kit.errors import Aborted, Unavailable
from alongside.kit.events.envelope import Event
from alongside.kit.logging import get_logger
from alongside.kit.uow import Tx, UnitOfWork
from alongside.notifier.adapters import events
from alongside.notifier.adapters.due_index import DueIndex
from alongside.notifier.adapters.store import JobView, NotificationStore
from alongside.notifier.domain import delivery
from alongside.notifier.domain.delivery import DeliveryState
from alongside.notifier.domain.model import Channel, default_preferences
from alongside.notifier.domain.quiet_hours import deliver_at
from alongside.notifier.domain.retry import DeadLetter, RetryPolicy, after_failure
from alongside.notifier.domain.routing import route
from alongside.notifier.service.compose import outgoing
from alongside.notifier.service.hooks import CrashHook
from alongside.notifier.service.model import Clock, Job
from alongside.notifier.service.ports import DeliveryFailed, Sender

log = get_logger(__name__)

# Redis away (restarting, failing over, its replica not yet back): the SENT
# record is retried after these, with backoff up to RECORD_RETRY_MAX_S.
REDIS_AWAY = (RedisError, OSError, Unavailable, Aborted)
RECORD_RETRY_MAX_S = 0.5


class Attempt:
    def __init__(
        self,
        uow: UnitOfWork,
        store: NotificationStore,
        due: DueIndex,
        senders: Mapping[Channel, Sender],
        policy: RetryPolicy,
        clock: Clock,
        crash: CrashHook,
        rng: random.Random | None = None,
    ) -> None:
        self._uow, self._store, self._due, self._senders = uow, store, due, senders
        self._policy, self._clock, self._crash = policy, clock, crash
        self._rng = rng or random.Random()

    async def run(self, job: Job) -> None:
        view = await self._store.load_job(job)
        state = view.record.deliveries.get(job.channel) if view else None
        if view is None or state is None or state.finished or view.due is None:
            await self._due.remove(job)  # done already (or expired): nothing to send
            return
        now = self._clock()
        if view.due > now:
            await self._due.add({job: view.due})  # rescheduled meanwhile: back to its time
            return
        # In the trace of the event that created the notification (its record keeps the context).
        carrier = {tracing.TRACEPARENT: view.record.trace} if view.record.trace else {}
        attributes = {
            "alongside.channel": job.channel.value,
            "alongside.notification.kind": view.record.trigger.kind.value,
        }
        with tracing.continued(carrier, f"deliver {job.channel.value}", SpanKind.INTERNAL, attributes):
            await self._attempt(job, view, state, now)

    async def _attempt(self, job: Job, view: JobView, state: DeliveryState, now: datetime) -> None:
        prefs = view.prefs or default_preferences(job.peer_id)
        trigger = view.record.trigger
        if job.channel not in route(trigger.kind, prefs):  # switched off since: the peer's choice
            if await self._settle(job, state, delivery.withdrawn(state, now), None):
                _count(job, "withdrawn")
            return
        opens = deliver_at(now, prefs, view.record.urgency, deadline=trigger.deadline())
        if opens > now:  # a retry (or changed preferences) fell into quiet hours
            if await self._settle(job, state, delivery.held(state, now), opens):
                _count(job, "held")
            return
        sender = self._senders.get(job.channel)
        try:
            if sender is None:
                raise DeliveryFailed(delivery.NOT_CONFIGURED, retryable=False)
            await sender.send(outgoing(view.record, prefs, job.channel))
        except DeliveryFailed as failure:
            await self._failed(job, view, state, failure)
            return
        done = delivery.delivered(state, self._clock())
        sent = events.sent(job, trigger.event_id)
        if await self._record_sent(job, state, done, sent):
            log.info("delivery.sent", notification_id=job.notification_id, channel=job.channel.value)
            _count(job, "sent")

    async def _record_sent(self, job: Job, state: DeliveryState, done: DeliveryState, sent: Event) -> bool:
        """Record a message that has gone out, retrying while Redis is away.

        Until SENT is in, nothing stops the next claim from sending the message
        again once this claim's lease runs out, so this never gives up while the
        process runs (a drain cancels it). It once gave up after half the lease:
        a Valkey failover (2 to 4 s without a primary, or with one that cannot
        yet confirm a write on a replica) outlasted that with the 5 s lease of
        the chaos run, and the job was sent twice (issue 14). A write that Redis
        applied but answered UNAVAILABLE (WAIT found no replica yet) is found on
        the next try: the state is no longer ``state``, and nothing is written
        twice."""
        delay, tries = 0.05, 0
        while True:
            try:
                return await self._settle(job, state, done, None, sent, crash_point="after_send")
            except REDIS_AWAY as exc:
                tries += 1
                if tries == 1 or tries % 20 == 0:  # one line a few seconds, not one a try
                    log.warning(
                        "delivery.record_retry",
                        notification_id=job.notification_id,
                        channel=job.channel.value,
                        error=type(exc).__name__,
                        tries=tries,
                    )
                await asyncio.sleep(delay)
                delay = min(delay * 2, RECORD_RETRY_MAX_S)

    async def _failed(self, job: Job, view: JobView, state: DeliveryState, failure: DeliveryFailed) -> None:
        now, attempt = self._clock(), state.attempts + 1
        outcome = after_failure(
            self._policy, attempt, failure.reason, now=now, rng=self._rng, retryable=failure.retryable
        )
        fields = {"notification_id": job.notification_id, "channel": job.channel.value, "reason": failure.reason}
        if isinstance(outcome, DeadLetter):
            source = view.record.trigger.event_id
            published = (
                events.failed(job, source, failure.reason, attempt),
                events.failed(job, source, failure.reason, attempt, dead_letter=True),
            )
            if await self._settle(job, state, delivery.gave_up(state, failure.reason, now), None, *published):
                log.warning("delivery.failed", attempts=attempt, **fields)
                _count(job, "failed")
            return
        if await self._settle(job, state, delivery.will_retry(state, failure.reason, now), outcome.when):
            log.info("delivery.retry", attempt=attempt, **fields)
            _count(job, "retry")

    async def _settle(
        self,
        job: Job,
        seen: DeliveryState,
        new: DeliveryState,
        due: datetime | None,
        *emit: Event,
        crash_point: str = "",
    ) -> bool:
        """Write ``new`` (and its events) if the state is still the one this
        attempt started from, then keep the job due at ``due`` or drop it.
        False if another worker moved it on meanwhile: its outcome stands."""

        async def body(tx: Tx) -> bytes:
            if await self._store.watch_delivery(tx, job) != seen:
                return b"0"
            self._store.queue_delivery(tx, job, new, due)
            for event in emit:
                tx.emit(self._store.keys.tag(job.peer_id), event)
            return b"1"

        if await self._uow.run(body) != b"1":
            return False
        if crash_point:
            self._crash.at(crash_point)
        if due is None:
            await self._due.remove(job)
        else:
            await self._due.add({job: due})
        return True


def _count(job: Job, outcome: str) -> None:
    metrics.DELIVERIES.labels(job.channel.value, outcome).inc()
    tracing.annotate("alongside.outcome", outcome)
