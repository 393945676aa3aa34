"""Writes the dashboard's fact of every session stored before the facts
existed, once per store (docs/dashboard.md).

Every booking and change since writes its session's fact in the same atomic
commit, so the backfill only adds what is missing and never overwrites a
newer fact (under WATCH: a booking meanwhile makes it read the peer again).
Matches accepted before ``match.accepted`` carried the intake's time have no
intake record and stay out of the time to first session.
"""

from __future__ import annotations

import asyncio
from typing import Any

from redis.exceptions import WatchError

from alongside.kit.logging import get_logger
from alongside.scheduler.adapters.codec import decode_session, session_fact
from alongside.scheduler.adapters.store import SchedulerStore

log = get_logger(__name__)


class StatsBackfill:
    def __init__(self, store: SchedulerStore) -> None:
        self.store = store
        self.marker = store.k.k.key("dir", "stats-backfilled")

    async def run(self, stop: asyncio.Event) -> None:
        if not await self.store.r.exists(self.marker):
            written = await self.once()
            await self.store.r.set(self.marker, "1")
            log.info("stats.backfilled", sessions=written)
        await stop.wait()

    async def once(self) -> int:
        return sum([await self._peer(peer_id) for peer_id in await self.store.members(self.store.k.peers)])

    async def _peer(self, peer_id: str) -> int:
        """The peer's missing facts, written unless a booking changed the peer's sessions meanwhile."""
        sessions, facts = self.store.k.sessions(peer_id), self.store.k.facts(peer_id)
        while True:
            async with self.store.r.pipeline(transaction=True) as pipe:
                try:
                    await pipe.watch(sessions, facts)
                    found: Any = await pipe.hgetall(sessions)
                    have: Any = await pipe.hgetall(facts)
                    missing = {
                        sid: session_fact(decode_session(bytes(raw))) for sid, raw in found.items() if sid not in have
                    }
                    pipe.multi()
                    if missing:
                        pipe.hset(facts, mapping=missing)
                    await pipe.execute()
                    return len(missing)
                except WatchError:
                    continue
