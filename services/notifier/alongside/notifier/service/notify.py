"""The consumer's use case: an event about a peer becomes one inbox item and
one delivery job per outside channel, exactly once.

The record, the inbox entry, the jobs (and any outbox entries) are written
in one atomic step keyed by a notification id derived from the event id: a
redelivered event finds the record and writes nothing. That step also checks
that the peer's preferences are still the ones the plan was made from, so a
small in-process copy of recent preferences saves a read without ever being
trusted blindly. Sending happens later, in the delivery worker.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime

from alongside.kit.errors import Aborted
from alongside.kit.events.envelope import Event
from alongside.kit.logging import get_logger
from alongside.notifier.adapters import events
from alongside.notifier.adapters.codec import decode_prefs
from alongside.notifier.adapters.creator import Created, NotificationCreator, Outcome
from alongside.notifier.adapters.due_index import DueIndex
from alongside.notifier.adapters.store import NotificationStore
from alongside.notifier.domain.model import Channel, default_preferences
from alongside.notifier.domain.notification import Plan, Trigger, plan
from alongside.notifier.service.compose import inbox_entry, new_record
from alongside.notifier.service.hooks import CrashHook
from alongside.notifier.service.model import Clock, Job

log = get_logger(__name__)
PREFS_KEPT = 10_000
ATTEMPTS = 5


class Notify:
    def __init__(
        self,
        creator: NotificationCreator,
        store: NotificationStore,
        due: DueIndex,
        clock: Clock,
        crash: CrashHook,
        *,
        announce_inbox: bool,
    ) -> None:
        self._creator, self._store, self._due = creator, store, due
        self._clock, self._crash = clock, crash
        self._announce_inbox = announce_inbox
        self._prefs_seen: OrderedDict[str, bytes] = OrderedDict()
        self._log = log.bind()  # bound once: the lazy proxy re-binds on every call

    async def handle(self, trigger: Trigger) -> None:
        now, peer = self._clock(), trigger.peer_id
        seen = self._prefs_seen.pop(peer, None)
        if seen is None:
            seen = await self._store.raw_prefs(peer)
        for _ in range(ATTEMPTS):
            decision = plan(trigger, decode_prefs(seen) if seen else default_preferences(peer), now)
            created = await self._create(trigger, decision, seen, now) if decision.channels else None
            if created is None or created.outcome is not Outcome.STALE:
                break
            seen = created.current  # changed meanwhile: plan again on what is stored now
        else:
            raise Aborted("the peer's preferences kept changing; retry")
        self._remember(peer, seen)
        self._crash.at("after_inbox")
        await self._crash.stall("after_inbox")
        if created is not None and created.outcome is Outcome.CREATED:
            await self._after_commit(trigger, decision, now)

    async def _create(self, trigger: Trigger, decision: Plan, seen: bytes, now: datetime) -> Created:
        prefs = decode_prefs(seen) if seen else default_preferences(trigger.peer_id)
        inbox = Channel.INBOX in decision.channels
        announce: list[Event] = []
        if inbox and self._announce_inbox:
            announce.append(events.sent(Job(trigger.peer_id, trigger.notification_id, Channel.INBOX), trigger.event_id))
        return await self._creator.create(
            new_record(trigger, decision, now),
            inbox_entry(trigger, prefs) if inbox else None,
            dict.fromkeys(decision.outside, decision.send_at),
            announce,
            prefs_seen=seen,
        )

    async def _after_commit(self, trigger: Trigger, decision: Plan, now: datetime) -> None:
        # A crash before this line leaves the jobs to the due index's sweep. The
        # sweep may also have indexed them already and a worker claimed one (its
        # score now the end of a lease): overwriting that lease with the due time
        # let the next claim send it again while the first send was in flight.
        jobs = {Job(trigger.peer_id, trigger.notification_id, c): decision.send_at for c in decision.outside}
        await self._due.add(jobs, now=now, only_new=True)
        # debug: the inbox item is the durable record; a line per event would cost a sixth of the throughput.
        self._log.debug(
            "notification.created",
            notification_id=trigger.notification_id,
            kind=trigger.kind.value,
            channels=[c.value for c in decision.channels],
            urgency=decision.urgency.value,
            deferred=decision.send_at > now,
        )

    def _remember(self, peer_id: str, prefs: bytes) -> None:
        self._prefs_seen[peer_id] = prefs
        if len(self._prefs_seen) > PREFS_KEPT:
            self._prefs_seen.popitem(last=False)
