"""Recording a consent revocation and cancelling the peer's pending jobs for
that match, inside one ``UnitOfWork`` transaction on the peer's slot.

The revoked set is what ``create_notification.lua`` checks, so a
notification created after this commits is suppressed, and one committed
before it has its jobs in the ``jobs`` set that this scan watches.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import redis.asyncio as aioredis

from alongside.kit.uow import Tx
from alongside.notifier.adapters.codec import decode_delivery, delivery_field, encode_delivery
from alongside.notifier.adapters.keys import NotifierKeys, parse_job_member
from alongside.notifier.domain import delivery
from alongside.notifier.service.model import Job


class RevocationStore:
    def __init__(self, r: aioredis.Redis, keys: NotifierKeys) -> None:
        self._r, self.keys = r, keys

    async def revoke(self, tx: Tx, peer_id: str, match_id: str, now: datetime) -> list[Job]:
        """Mark ``match_id`` revoked for the peer and cancel its pending jobs;
        the jobs cancelled (to drop from the due index after commit)."""
        k = self.keys
        await tx.watch(k.jobs(peer_id), k.session_matches(peer_id))
        members: list[Any] = await tx.pipe.zrange(k.jobs(peer_id), 0, -1)
        sessions: dict[Any, Any] = await tx.pipe.hgetall(k.session_matches(peer_id))
        jobs = [parse_job_member(peer_id, m) for m in members]
        records = [k.record(peer_id, j.notification_id) for j in jobs]
        if records:
            await tx.watch(*records)
        cancel: list[tuple[Job, str]] = []
        for job, key in zip(jobs, records, strict=True):
            match, session, raw = await tx.pipe.hmget(key, ["match_id", "session_id", delivery_field(job.channel)])
            owner: Any = match or (sessions.get(session) if session else None)
            if owner is not None and bytes(owner) == match_id.encode() and raw is not None:
                state = decode_delivery(raw)
                cancel.append((job, encode_delivery(delivery.revoked(state, now))))
        tx.begin()
        tx.pipe.sadd(k.revoked(peer_id), match_id)
        for job, encoded in cancel:
            tx.pipe.hset(k.record(peer_id, job.notification_id), delivery_field(job.channel), encoded)
            tx.pipe.zrem(k.jobs(peer_id), members[jobs.index(job)])
        return [job for job, _ in cancel]
