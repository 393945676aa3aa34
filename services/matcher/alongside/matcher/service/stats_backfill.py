"""Writes the dashboard's facts of requests and matches stored before the
facts existed, once per store (docs/dashboard.md).

Every change since writes its fact in its own transaction, so the backfill
only adds what is missing and never overwrites a newer fact. Each chunk is
read and written under WATCH (the records and the facts), so a change or an
erasure that runs meanwhile makes it start the chunk again: an erasure is
never undone by re-adding the tags it deleted. (HSETNX would be simpler, but
the services' Valkey logins do not have it: deploy/valkey/users.acl.)
"""

from __future__ import annotations

import asyncio
from typing import Any

from redis.exceptions import WatchError

from alongside.api.matcher.v1 import matcher_pb2 as pb
from alongside.kit.logging import get_logger
from alongside.matcher.adapters.stats_facts import match_fact, request_fact, tags_fact
from alongside.matcher.adapters.store import MatcherStore

log = get_logger(__name__)
CHUNK = 200


class StatsBackfill:
    def __init__(self, store: MatcherStore) -> None:
        self.store = store
        self.marker = store.k.stats_requests + ":backfilled"

    async def run(self, stop: asyncio.Event) -> None:
        if not await self.store.r.exists(self.marker):
            requests, matches = await self.once()
            await self.store.r.set(self.marker, "1")
            log.info("stats.backfilled", requests=requests, matches=matches)
        await stop.wait()

    async def once(self) -> tuple[int, int]:
        ids = await self._ids(self.store.k.request(""))
        for n in range(0, len(ids), CHUNK):
            await self._requests(ids[n : n + CHUNK])
        match_ids = await self._ids(self.store.k.match(""))
        for n in range(0, len(match_ids), CHUNK):
            await self._matches(match_ids[n : n + CHUNK])
        return len(ids), len(match_ids)

    async def _ids(self, prefix: str) -> list[str]:
        pattern = prefix.replace("[", "\\[").replace("*", "\\*").replace("?", "\\?") + "*"
        found = [_text(k)[len(prefix) :] async for k in self.store.r.scan_iter(match=pattern, count=5000)]
        return sorted(set(found))

    async def _requests(self, ids: list[str]) -> None:
        k = self.store.k
        keys = [k.request(i) for i in ids]
        while True:
            async with self.store.r.pipeline(transaction=True) as pipe:
                try:
                    await pipe.watch(*keys, k.stats_requests, k.stats_tags)
                    rows = [await pipe.hmget(key, ["state", "input"]) for key in keys]
                    have_fact = await pipe.hmget(k.stats_requests, ids)
                    have_tags = await pipe.hmget(k.stats_tags, ids)
                    facts: dict[Any, Any] = {}
                    tags: dict[Any, Any] = {}
                    for n, (request_id, (state_raw, input_raw)) in enumerate(zip(ids, rows, strict=True)):
                        if state_raw is not None and have_fact[n] is None:
                            facts[request_id] = request_fact(_parse(pb.MatchRequest, state_raw))
                        if input_raw is not None and have_tags[n] is None:
                            tags[request_id] = tags_fact(_parse(pb.SubmitMatchRequestRequest, input_raw))
                    pipe.multi()
                    if facts:
                        pipe.hset(k.stats_requests, mapping=facts)
                    if tags:
                        pipe.hset(k.stats_tags, mapping=tags)
                    await pipe.execute()
                    return
                except WatchError:
                    continue

    async def _matches(self, ids: list[str]) -> None:
        k = self.store.k
        while True:
            async with self.store.r.pipeline(transaction=True) as pipe:
                try:
                    await pipe.watch(k.stats_matches)
                    raws: list[Any] = await pipe.mget([k.match(i) for i in ids])
                    have = await pipe.hmget(k.stats_matches, ids)
                    stored = {
                        match_id: _parse(pb.Match, raw)
                        for match_id, raw, present in zip(ids, raws, have, strict=True)
                        if raw is not None and present is None
                    }
                    # An imported match has no fact (``MatcherStore.put_match``): it had no intake here.
                    found: dict[Any, Any] = {i: match_fact(m) for i, m in stored.items() if not m.imported}
                    pipe.multi()
                    if found:
                        pipe.hset(k.stats_matches, mapping=found)
                    await pipe.execute()
                    return
                except WatchError:
                    continue


def _parse(kind: Any, raw: Any) -> Any:
    message = kind()
    message.ParseFromString(raw)
    return message


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
