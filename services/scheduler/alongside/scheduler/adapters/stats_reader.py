"""Reads the scheduler's own keys for the dashboard: each peer's session
facts (``start_ms|status letter|match id``, written with every session) and
intake records, one pipelined round trip per chunk of peers. The session
protobufs themselves are never read: parsing tens of thousands of them took
most of a second (docs/benchmarks.md)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from alongside.scheduler.adapters.store import SchedulerStore

CHUNK = 100


class StatsReader:
    def __init__(self, store: SchedulerStore) -> None:
        self.store = store

    async def peers(self) -> list[str]:
        return await self.store.members(self.store.k.peers)

    async def facts_and_intakes(self, peer_ids: Sequence[str]) -> tuple[list[bytes], dict[bytes, bytes]]:
        """Every session's fact, and every match's intake record."""
        facts: list[bytes] = []
        intakes: dict[bytes, bytes] = {}
        for n in range(0, len(peer_ids), CHUNK):
            async with self.store.r.pipeline(transaction=False) as pipe:
                for peer_id in peer_ids[n : n + CHUNK]:
                    pipe.hvals(self.store.k.facts(peer_id))
                    pipe.hgetall(self.store.k.intake(peer_id))
                rows: list[Any] = await pipe.execute()
            for values, found in zip(rows[::2], rows[1::2], strict=True):
                facts.extend(values)
                intakes.update(found)
        return facts, intakes

    async def group_attendance(self, peer_ids: Sequence[str]) -> list[bytes]:
        """Every attendance fact of the groups the peers host: ``start_ms|A or N``."""
        found: list[bytes] = []
        for n in range(0, len(peer_ids), CHUNK):
            async with self.store.r.pipeline(transaction=False) as pipe:
                for peer_id in peer_ids[n : n + CHUNK]:
                    pipe.hvals(self.store.k.group_facts(peer_id))
                rows: list[Any] = await pipe.execute()
            for values in rows:
                found.extend(values)
        return found
