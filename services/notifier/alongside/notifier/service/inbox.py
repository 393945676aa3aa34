"""The in-app inbox: list (paged, optionally unread only), acknowledge, watch."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from alongside.kit.errors import InvalidArgument, NotFound
from alongside.kit.ids import check_id
from alongside.kit.uow import Idempotency, Tx, UnitOfWork
from alongside.notifier.adapters.inbox_reader import InboxReader
from alongside.notifier.adapters.store import NotificationStore
from alongside.notifier.service.model import Clock, InboxItem

DEFAULT_PAGE = 50
MAX_PAGE = 200
MAX_ACK = 500
WATCH_BATCH = 100
_CURSOR = re.compile(r"[0-9]{1,20}-[0-9]{1,20}")


@dataclass(frozen=True, slots=True)
class Page:
    items: list[InboxItem]
    next_token: str


class Inbox:
    def __init__(
        self,
        uow: UnitOfWork,
        store: NotificationStore,
        reader: InboxReader,
        clock: Clock,
        *,
        block_ms: int,
        draining: asyncio.Event,
    ) -> None:
        self._uow, self._store, self._reader, self._clock = uow, store, reader, clock
        self._block_ms, self._draining = block_ms, draining

    async def list(self, peer_id: str, *, unread_only: bool, page_size: int, page_token: str) -> Page:
        """Newest first. The token is the entry id of the last item returned."""
        check_id("peer_id", peer_id)
        size = page_size or DEFAULT_PAGE
        if not 1 <= size <= MAX_PAGE:
            raise InvalidArgument("page_size", f"must be between 0 and {MAX_PAGE}")
        if page_token and not _CURSOR.fullmatch(page_token):
            raise InvalidArgument("page_token", "is not a token from a previous page")
        items: list[InboxItem] = []
        cursor, more = page_token or None, True
        # Gather one item past the page, to know whether another page exists.
        while more and len(items) <= size:
            batch = await self._reader.newest_before(peer_id, cursor, size + 1)
            more = len(batch) == size + 1
            for item in batch:
                cursor = item.entry
                if not (unread_only and item.read):
                    items.append(item)
        page = items[:size]
        return Page(page, page[-1].entry if len(items) > size else "")

    async def acknowledge(self, peer_id: str, notification_ids: Sequence[str], key: str, request: bytes) -> int:
        """Mark items read; how many were unread items of this inbox."""
        check_id("peer_id", peer_id)
        if not 1 <= len(notification_ids) <= MAX_ACK:
            raise InvalidArgument("notification_ids", f"must hold 1 to {MAX_ACK} ids")
        for i, notification_id in enumerate(notification_ids):
            check_id(f"notification_ids[{i}]", notification_id)
        unique = list(dict.fromkeys(notification_ids))
        now = self._clock()

        async def body(tx: Tx) -> bytes:
            fresh = await self._store.begin_ack(tx, peer_id, unique)
            self._store.queue_ack(tx, peer_id, fresh, now)
            return str(len(fresh)).encode()

        tag = self._store.keys.tag(peer_id)
        return int(await self._uow.run(body, idempotency=Idempotency.of(tag, "Acknowledge", key, request)))

    async def watch_start(self, peer_id: str, after_id: str) -> str:
        """Where a watch begins: after ``after_id`` (a notification id), or
        after the newest item so only new ones follow."""
        check_id("peer_id", peer_id)
        if not after_id:
            return await self._reader.last_entry(peer_id)
        check_id("after_id", after_id)
        entry = await self._reader.entry_of(peer_id, after_id)
        if entry is None:
            raise NotFound("after_id: no such notification in this inbox")
        return entry

    async def follow(self, peer_id: str, cursor: str) -> AsyncIterator[InboxItem]:
        """Items after ``cursor`` as they arrive; ends when the server drains."""
        while not self._draining.is_set():
            for item in await self._reader.after(peer_id, cursor, WATCH_BATCH, self._block_ms):
                cursor = item.entry
                yield item
