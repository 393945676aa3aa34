"""The cross-peer schedule of delivery jobs that workers claim from.

A sorted set scored by due time in ms. Claiming moves a member's score to the
end of a lease in the same script, so replicas never claim one job twice at
once, and a worker that dies mid-job leaves it to be claimed again once the
lease runs out. The index is a hint: each peer's ``jobs`` set is the truth,
it is written after the peer's transaction commits, and ``sweep`` restores
whatever a crash in between left out.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import datetime

import redis.asyncio as aioredis

from alongside.kit.functions import Function, fcall
from alongside.notifier.adapters.codec import ms
from alongside.notifier.adapters.keys import NotifierKeys, due_member, parse_due_member, parse_job_member
from alongside.notifier.service.model import Job

# A Valkey function in the notifier's library (adapters/functions.py).
CLAIM_DUE = Function(
    "alongside_notifier_claim_due",
    """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, member in ipairs(due) do
  redis.call('ZADD', KEYS[1], ARGV[2], member)
end
return due
""",
)


class DueIndex:
    def __init__(self, r: aioredis.Redis, keys: NotifierKeys) -> None:
        self._r, self._keys = r, keys
        # Set when a job is due now, so an idle worker in this process starts at once.
        self.wakeup = asyncio.Event()

    async def add(self, jobs: Mapping[Job, datetime], *, now: datetime | None = None, only_new: bool = False) -> None:
        """Index ``jobs`` at their due times. ``only_new`` leaves a job that is
        indexed already as it is: it may be claimed, its score a lease."""
        if not jobs:
            return
        await self._r.zadd(self._keys.due, {due_member(job): ms(when) for job, when in jobs.items()}, nx=only_new)
        if now is None or any(when <= now for when in jobs.values()):
            self.wakeup.set()

    async def claim(self, now: datetime, lease_until: datetime, limit: int) -> list[Job]:
        members = await fcall(self._r, CLAIM_DUE.name, [self._keys.due], [ms(now), ms(lease_until), limit])
        return [parse_due_member(m) for m in members]

    async def remove(self, job: Job) -> None:
        await self._r.zrem(self._keys.due, due_member(job))

    async def sweep(self) -> int:
        """Re-add every peer's pending jobs that the index lacks; how many were missing."""
        restored = 0
        async for raw_key in self._r.scan_iter(match=self._keys.jobs_pattern, count=1000):
            key = raw_key.decode() if isinstance(raw_key, bytes) else raw_key
            peer_id = self._keys.peer_of(key)
            pending: list[tuple[bytes, float]] = await self._r.zrange(key, 0, -1, withscores=True)  # type: ignore[assignment]
            if pending:
                members = {due_member(parse_job_member(peer_id, m)): score for m, score in pending}
                restored += int(await self._r.zadd(self._keys.due, members, nx=True) or 0)
        if restored:
            self.wakeup.set()
        return restored

    async def size(self) -> int:
        return int(await self._r.zcard(self._keys.due))
