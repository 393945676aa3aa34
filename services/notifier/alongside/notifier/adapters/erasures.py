"""Removing the notifications about an erased participant's match from its
peer's data, inside one ``UnitOfWork`` transaction on the peer's slot.

A notification is about the match when its record names the match, or names
a session the notifier learnt belongs to it. Its record (texts' ids, times,
delivery log), its inbox entry (title, body, refs) and its pending jobs go;
the match joins the peer's ``revoked`` set, so ``create_notification.lua``
suppresses any later event about it (a late reminder, a redelivery).
"""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis

from alongside.kit.uow import Tx
from alongside.notifier.adapters.keys import NotifierKeys, parse_job_member
from alongside.notifier.service.model import Job


class ErasureStore:
    def __init__(self, r: aioredis.Redis, keys: NotifierKeys) -> None:
        self._r, self.keys = r, keys

    async def forget(self, tx: Tx, peer_id: str, match_id: str) -> tuple[int, list[Job]]:
        """How many notifications went, and the jobs cancelled (to drop from the due index)."""
        k = self.keys
        # Any notification created meanwhile touches one of these: the transaction then runs again.
        await tx.watch(k.inbox(peer_id), k.jobs(peer_id), k.session_matches(peer_id))
        sessions: dict[Any, Any] = await tx.pipe.hgetall(k.session_matches(peer_id))
        about = {s for s, m in sessions.items() if bytes(m) == match_id.encode()}
        found: list[tuple[str, str, Any]] = []
        async for raw_key in self._r.scan_iter(match=k.record(peer_id, "*"), count=1000):
            key = raw_key.decode() if isinstance(raw_key, bytes) else str(raw_key)
            fields: Any = await tx.pipe.hmget(key, ["match_id", "session_id", "entry"])
            match, session, entry = fields
            if (match is not None and bytes(match) == match_id.encode()) or (session is not None and session in about):
                found.append((key, key.rpartition(":")[2], entry))
        gone = {nid for _, nid, _ in found}
        members: list[Any] = await tx.pipe.zrange(k.jobs(peer_id), 0, -1)
        jobs = [(m, parse_job_member(peer_id, m)) for m in members]
        cancelled = [(m, job) for m, job in jobs if job.notification_id in gone]
        tx.begin()
        tx.pipe.sadd(k.revoked(peer_id), match_id)
        for key, _, entry in found:
            tx.pipe.delete(key)
            if entry is not None:
                tx.pipe.xdel(k.inbox(peer_id), entry)
        for member, _ in cancelled:
            tx.pipe.zrem(k.jobs(peer_id), member)
        return len(found), [job for _, job in cancelled]
