"""Reads, and writes queued inside ``UnitOfWork`` transactions, for
preferences, delivery states and read marks.

Use cases call ``watch_*`` / ``begin_*`` inside ``UnitOfWork.run`` to WATCH the
keys they decide on and read them, then ``queue_*`` to add writes to the same
MULTI/EXEC. Reads after a WATCH may go through a separate, plain pipeline: one
round trip for all of them, and any change after the WATCH still aborts the
EXEC. New notifications are written by ``creator`` instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import redis.asyncio as aioredis

from alongside.kit.uow import Tx
from alongside.notifier.adapters.codec import (
    decode_delivery,
    decode_prefs,
    decode_record,
    delivery_field,
    encode_delivery,
    encode_prefs,
    from_ms,
    ms,
)
from alongside.notifier.adapters.keys import NotifierKeys, job_member
from alongside.notifier.domain.delivery import DeliveryState
from alongside.notifier.domain.model import ContactPreferences
from alongside.notifier.service.model import Job, NotificationRecord


@dataclass(frozen=True, slots=True)
class JobView:
    """A job as a worker finds it: the record, the peer's current preferences
    and when the job is due (None once it is finished)."""

    record: NotificationRecord
    prefs: ContactPreferences | None
    due: datetime | None


class NotificationStore:
    def __init__(self, r: aioredis.Redis, keys: NotifierKeys) -> None:
        self._r, self.keys = r, keys

    async def prefs(self, peer_id: str) -> ContactPreferences | None:
        raw = await self.raw_prefs(peer_id)
        return decode_prefs(raw) if raw else None

    async def raw_prefs(self, peer_id: str) -> bytes:
        """The stored preferences as they are, b"" if none."""
        raw: Any = await self._r.get(self.keys.prefs(peer_id))
        return bytes(raw or b"")

    def queue_prefs(self, tx: Tx, prefs: ContactPreferences) -> None:
        tx.begin()
        tx.pipe.set(self.keys.prefs(prefs.peer_id), encode_prefs(prefs))

    async def load_job(self, job: Job) -> JobView | None:
        async with self._r.pipeline(transaction=False) as p:
            p.hgetall(self.keys.record(job.peer_id, job.notification_id))
            p.get(self.keys.prefs(job.peer_id))
            p.zscore(self.keys.jobs(job.peer_id), job_member(job))
            raw_record, raw_prefs, score = await p.execute()
        record = decode_record(raw_record)
        if record is None:
            return None
        due = None if score is None else from_ms(int(score))
        return JobView(record, decode_prefs(raw_prefs) if raw_prefs else None, due)

    async def watch_delivery(self, tx: Tx, job: Job) -> DeliveryState | None:
        """Watch the record and read the channel's current state."""
        key = self.keys.record(job.peer_id, job.notification_id)
        await tx.watch(key)
        raw = await tx.pipe.hget(key, delivery_field(job.channel))
        return decode_delivery(raw) if raw else None

    def queue_delivery(self, tx: Tx, job: Job, state: DeliveryState, due: datetime | None) -> None:
        """Record the channel's state; keep the job due at ``due``, or drop it."""
        tx.begin()
        tx.pipe.hset(
            self.keys.record(job.peer_id, job.notification_id), delivery_field(job.channel), encode_delivery(state)
        )
        if due is None:
            tx.pipe.zrem(self.keys.jobs(job.peer_id), job_member(job))
        else:
            tx.pipe.zadd(self.keys.jobs(job.peer_id), {job_member(job): ms(due)})

    async def begin_ack(self, tx: Tx, peer_id: str, notification_ids: Sequence[str]) -> list[str]:
        """Watch the records; return the ids that exist and are unread."""
        keys = [self.keys.record(peer_id, n) for n in notification_ids]
        await tx.watch(*keys)
        async with self._r.pipeline(transaction=False) as p:
            for key in keys:
                p.hmget(key, ["event_id", "read"])
            rows = await p.execute()
        return [n for n, (event_id, read) in zip(notification_ids, rows, strict=True) if event_id and read != b"1"]

    def queue_ack(self, tx: Tx, peer_id: str, notification_ids: Sequence[str], now: datetime) -> None:
        tx.begin()
        for n in notification_ids:
            tx.pipe.hset(self.keys.record(peer_id, n), mapping={"read": "1", "read_at": str(ms(now))})
