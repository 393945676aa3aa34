"""Reads of the scheduler's Redis data. Session writes go through
``commit.lua`` (see ``commit.py``); calendar and time-off writes through the
kit's unit of work, with the ``put_*`` helpers here."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.client import Pipeline

from alongside.kit.redis import Keys
from alongside.scheduler.adapters.codec import PeerCalendar, decode_calendar, from_ms, ms
from alongside.scheduler.adapters.keys import SchedulerKeys
from alongside.scheduler.domain.model import Interval
from alongside.scheduler.domain.validation import MAX_SESSION

Reader = aioredis.Redis | Pipeline


class SchedulerStore:
    def __init__(self, r: aioredis.Redis, keys: Keys) -> None:
        self.r = r
        self.k = SchedulerKeys(keys)

    async def calendar(self, peer_id: str, via: Reader | None = None) -> PeerCalendar | None:
        fields: Any = await (via or self.r).hgetall(self.k.cal(peer_id))
        return decode_calendar(peer_id, fields)

    async def calendars(self, peer_ids: Sequence[str]) -> dict[str, PeerCalendar]:
        async with self.r.pipeline(transaction=False) as pipe:
            for peer_id in peer_ids:
                pipe.hgetall(self.k.cal(peer_id))
            raws: list[Any] = await pipe.execute()
        found = (decode_calendar(p, raw) for p, raw in zip(peer_ids, raws, strict=True))
        return {c.peer_id: c for c in found if c is not None}

    async def idem(self, key: str) -> tuple[bytes, bytes] | None:
        found: Any = await self.r.hmget(key, ["fp", "response"])
        return None if found[0] is None else (bytes(found[0]), bytes(found[1]))

    async def session_raw(self, peer_id: str, session_id: str) -> bytes | None:
        raw: Any = await self.r.hget(self.k.sessions(peer_id), session_id)
        return None if raw is None else bytes(raw)

    async def sessions_raw(self, peer_id: str, session_ids: Sequence[str]) -> list[bytes | None]:
        if not session_ids:
            return []
        raws: Any = await self.r.hmget(self.k.sessions(peer_id), list(session_ids))
        return [None if raw is None else bytes(raw) for raw in raws]

    async def all_sessions_raw(self, peer_id: str) -> list[bytes]:
        found: Any = await self.r.hgetall(self.k.sessions(peer_id))
        return [bytes(v) for v in found.values()]

    async def series_raw(self, peer_id: str, series_id: str) -> bytes | None:
        raw: Any = await self.r.hget(self.k.series(peer_id), series_id)
        return None if raw is None else bytes(raw)

    async def all_series_raw(self, peer_id: str) -> list[bytes]:
        found: Any = await self.r.hgetall(self.k.series(peer_id))
        return [bytes(v) for v in found.values()]

    async def booked(self, peer_id: str, start: datetime, end: datetime) -> list[tuple[str, Interval]]:
        """(session id, interval) of the live sessions that reach into [start, end)."""
        low = ms(start) - int(MAX_SESSION.total_seconds() * 1000)
        rows: Any = await self.r.zrangebyscore(self.k.booked(peer_id), f"({low}", f"({ms(end)}", withscores=True)
        out = []
        for member, score in rows:
            session_id, _, end_ms = member.decode().rpartition("|")
            if int(end_ms) > ms(start):
                out.append((session_id, Interval(from_ms(score), from_ms(end_ms))))
        return out

    async def time_off(self, peer_id: str) -> dict[str, Interval]:
        raw: Any = await self.r.hgetall(self.k.off(peer_id))
        return {k.decode(): _span(v) for k, v in raw.items()}

    async def match_session_ids(self, peer_id: str, match_id: str) -> list[str]:
        return await self.members(self.k.by_match(peer_id, match_id))

    async def members(self, key: str) -> list[str]:
        found: Any = await self.r.smembers(key)
        return sorted(m.decode() for m in found)

    async def index_page(self, keys: Sequence[str], low: str, high: str, count: int) -> list[list[str]]:
        """Up to ``count`` index members per key within the lex range."""
        async with self.r.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.zrangebylex(key, low, high, 0, count)
            rows: list[Any] = await pipe.execute()
        return [[m.decode() for m in row] for row in rows]

    async def peers_with_due_reminders(self, peer_ids: Sequence[str], now: datetime) -> list[str]:
        """Which of ``peer_ids`` have a reminder due by ``now``, in one round trip."""
        async with self.r.pipeline(transaction=False) as pipe:
            for peer_id in peer_ids:
                pipe.zrangebyscore(self.k.reminders(peer_id), "-inf", ms(now), 0, 1)
            rows: list[Any] = await pipe.execute()
        return [peer_id for peer_id, row in zip(peer_ids, rows, strict=True) if row]

    async def due_reminders(self, peer_id: str, now: datetime, limit: int) -> list[str]:
        rows: Any = await self.r.zrangebyscore(self.k.reminders(peer_id), "-inf", ms(now), 0, limit)
        return [m.decode() for m in rows]

    async def pending_raw(self) -> dict[str, bytes]:
        found: Any = await self.r.hgetall(self.k.pending)
        return {k.decode(): bytes(v) for k, v in found.items()}


def _span(raw: bytes) -> Interval:
    start, end = raw.split(b"|")
    return Interval(from_ms(start), from_ms(end))


def span_value(interval: Interval) -> str:
    return f"{ms(interval.start)}|{ms(interval.end)}"
