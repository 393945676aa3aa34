"""Reads the scheduler's own keys for the dashboard: every peer's sessions
and intake times, one pipelined round trip per chunk of peers."""

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

    async def sessions_and_intakes(self, peer_ids: Sequence[str]) -> tuple[list[bytes], dict[str, bytes]]:
        """Every stored session (raw protobuf) and every match's intake record."""
        sessions: list[bytes] = []
        intakes: dict[str, bytes] = {}
        for n in range(0, len(peer_ids), CHUNK):
            async with self.store.r.pipeline(transaction=False) as pipe:
                for peer_id in peer_ids[n : n + CHUNK]:
                    pipe.hvals(self.store.k.sessions(peer_id))
                    pipe.hgetall(self.store.k.intake(peer_id))
                rows: list[Any] = await pipe.execute()
            for values, found in zip(rows[::2], rows[1::2], strict=True):
                sessions.extend(values)
                intakes.update({_text(k): v for k, v in found.items()})
        return sessions, intakes


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
