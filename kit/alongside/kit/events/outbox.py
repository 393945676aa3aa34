"""Transactional outbox: the event is written in the same atomic Redis
transaction as the state change, then relayed to JetStream.

Outboxes are Redis streams, one per hash tag, so the append always shares a
slot with the state it describes. The relay finds them through an index set
(a hint written right after commit) and, as the safety net for a crash between
commit and hint, a periodic SCAN sweep. It publishes each entry, waits for the
PubAck, and only then deletes it; ``Nats-Msg-Id`` makes a re-publish after a
crash a no-op inside the stream's duplicate window.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable
from typing import Any

import redis.asyncio as aioredis
from nats.js import JetStreamContext

from alongside.kit.aio import wait_any
from alongside.kit.events.envelope import Event
from alongside.kit.logging import get_logger
from alongside.kit.redis import Keys

log = get_logger(__name__)

_DELETE_IF_EMPTY = "if redis.call('XLEN', KEYS[1]) == 0 then return redis.call('DEL', KEYS[1]) end return 0"
_BATCH = 256


class Outbox:
    """The writer's side: append inside a transaction, then hint the relay."""

    def __init__(self, r: aioredis.Redis, keys: Keys) -> None:
        self._r = r
        self._keys = keys
        self.index_key = keys.key("outbox-index", "keys")
        self.wakeup = asyncio.Event()

    def key(self, tag: str) -> str:
        return self._keys.key(tag, "outbox")

    def append(self, pipe: aioredis.client.Pipeline, tag: str, event: Event) -> None:
        """Queue the event on ``pipe`` (which must be inside MULTI)."""
        fields: dict[Any, Any] = {
            "type": event.type,
            "body": event.body,
            "headers": json.dumps(event.headers()),
        }
        pipe.xadd(self.key(tag), fields)

    async def committed(self, tags: Iterable[str]) -> None:
        keys = {self.key(tag) for tag in tags}
        if keys:
            await self._r.sadd(self.index_key, *keys)
            self.wakeup.set()


class OutboxRelay:
    """Publishes outbox entries to JetStream, at least once, in order per tag."""

    def __init__(
        self,
        r: aioredis.Redis,
        js: JetStreamContext,
        outbox: Outbox,
        keys: Keys,
        namespace: str,
        *,
        poll_s: float = 0.5,
        sweep_s: float = 30.0,
    ) -> None:
        self._r, self._js, self._outbox, self._keys = r, js, outbox, keys
        self._namespace = namespace
        self._poll_s, self._sweep_s = poll_s, sweep_s
        self._delete_if_empty = r.register_script(_DELETE_IF_EMPTY)
        self.published = 0

    async def run(self, stop: asyncio.Event) -> None:
        last_sweep = 0.0
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            sweep = loop.time() - last_sweep >= self._sweep_s
            try:
                await self.drain(sweep=sweep)
                if sweep:
                    last_sweep = loop.time()
            except Exception as exc:  # noqa: BLE001 - keep relaying whatever failed
                log.warning("outbox.relay_failed", error=type(exc).__name__)
                await wait_any((stop,), self._poll_s * 4)
                continue
            await wait_any((stop, self._outbox.wakeup), self._poll_s)
            self._outbox.wakeup.clear()

    async def drain(self, *, sweep: bool = False) -> int:
        """Relay every pending entry; return how many were published."""
        keys = {_text(k) for k in await self._r.smembers(self._outbox.index_key)}
        if sweep:
            keys |= {_text(k) async for k in self._r.scan_iter(match=self._keys.pattern("outbox"), count=1000)}
        count = 0
        for key in sorted(keys):
            # Remove the hint before reading: a writer that commits after our
            # read adds it back, so nothing is stranded.
            await self._r.srem(self._outbox.index_key, key)
            try:
                count += await self._drain_key(key)
            except BaseException:
                await self._r.sadd(self._outbox.index_key, key)
                raise
        return count

    async def _drain_key(self, key: str) -> int:
        count = 0
        while entries := await self._r.xrange(key, count=_BATCH):
            for entry_id, fields in entries:
                await self._publish(fields)
                await self._r.xdel(key, entry_id or b"")
                count += 1
        await self._delete_if_empty(keys=[key])
        self.published += count
        return count

    async def _publish(self, fields: Any) -> None:
        headers = json.loads(fields[b"headers"])
        subject = f"{self._namespace}.{fields[b'type'].decode()}"
        await self._js.publish(subject, fields[b"body"], headers=headers)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
