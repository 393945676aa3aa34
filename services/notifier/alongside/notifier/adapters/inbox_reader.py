"""Reading a peer's inbox stream, newest first for List and in order for Watch.

Entries are joined with their notification records (read flag, deliveries)
in one pipelined round trip per batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import redis.asyncio as aioredis

from alongside.notifier.adapters.codec import Raw, decode_item, decode_record
from alongside.notifier.adapters.keys import NotifierKeys
from alongside.notifier.service.model import InboxItem

Entry = tuple[bytes, Raw]
START = "0-0"


class InboxReader:
    def __init__(self, r: aioredis.Redis, keys: NotifierKeys, blocking: aioredis.Redis | None = None) -> None:
        self._r, self._keys = r, keys
        self._blocking = blocking or r  # for XREAD BLOCK, which holds its connection while it waits

    async def newest_before(self, peer_id: str, before: str | None, count: int) -> list[InboxItem]:
        """Up to ``count`` items older than entry ``before`` (or the newest), newest first."""
        upper = "+" if before is None else "(" + before
        entries: Any = await self._r.xrevrange(self._keys.inbox(peer_id), max=upper, min="-", count=count)
        return await self.join(peer_id, entries)

    async def after(self, peer_id: str, after: str, count: int, block_ms: int) -> list[InboxItem]:
        """Items newer than entry ``after``, oldest first; waits up to ``block_ms`` for one."""
        reply: Any = await self._blocking.xread({self._keys.inbox(peer_id): after}, count=count, block=block_ms)
        if not reply:
            return []
        _, entries = reply[0]
        return await self.join(peer_id, entries)

    async def last_entry(self, peer_id: str) -> str:
        """The newest entry id, or the stream's start when it is empty."""
        newest: Any = await self._r.xrevrange(self._keys.inbox(peer_id), count=1)
        return str(newest[0][0].decode()) if newest else START

    async def entry_of(self, peer_id: str, notification_id: str) -> str | None:
        raw: Any = await self._r.hget(self._keys.record(peer_id, notification_id), "entry")
        return raw.decode() if raw else None

    async def join(self, peer_id: str, entries: Sequence[Entry]) -> list[InboxItem]:
        if not entries:
            return []
        async with self._r.pipeline(transaction=False) as p:
            for _, fields in entries:
                p.hgetall(self._keys.record(peer_id, fields[b"id"].decode()))
            records = await p.execute()
        return [
            decode_item(peer_id, entry_id, fields, decode_record(raw))
            for (entry_id, fields), raw in zip(entries, records, strict=True)
        ]
