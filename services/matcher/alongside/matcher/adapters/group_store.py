"""The community-group directory in Redis, and each replica's cached copy.

Keys share the matcher's ``{roster}`` hash tag: ``group:<id>`` holds the
API's ``CommunityGroup`` message, ``groups`` the ids (lexical order for
listing), ``groups-version`` a counter every write bumps. Nothing here is
about a participant. The cache re-reads the directory only when the counter
moved, so an intake costs one GET, not the directory.
"""

from __future__ import annotations

import asyncio
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.client import Pipeline

from alongside.api.matcher.v1 import matcher_pb2 as pb
from alongside.kit.redis import Keys
from alongside.matcher.adapters.store import TAG
from alongside.matcher.domain.groups import CommunityGroup
from alongside.matcher.group_mappers import group_in

Reader = aioredis.Redis | Pipeline


class GroupStore:
    def __init__(self, r: aioredis.Redis, keys: Keys) -> None:
        self.r, self._keys = r, keys

    def key(self, group_id: str) -> str:
        return self._keys.key(TAG, "group", group_id)

    @property
    def ids_key(self) -> str:
        return self._keys.key(TAG, "groups")

    @property
    def version_key(self) -> str:
        return self._keys.key(TAG, "groups-version")

    async def group(self, group_id: str, via: Reader | None = None) -> pb.CommunityGroup | None:
        return _parse(await (via or self.r).get(self.key(group_id)))

    async def groups_by_id(self, ids: list[str], via: Reader | None = None) -> dict[str, pb.CommunityGroup]:
        if not ids:
            return {}
        found = (_parse(raw) for raw in await (via or self.r).mget([self.key(i) for i in ids]))
        return {g.group_id: g for g in found if g is not None}

    async def ids(self, after: str = "", limit: int | None = None) -> list[str]:
        low = f"({after}" if after else "-"
        found = await self.r.zrangebylex(self.ids_key, low, "+", 0 if limit is not None else None, limit)
        return [i.decode() if isinstance(i, bytes) else str(i) for i in found]

    async def groups(self, ids: list[str]) -> list[pb.CommunityGroup]:
        return list((await self.groups_by_id(ids)).values())

    async def version(self) -> int:
        return int(await self.r.get(self.version_key) or 0)

    def put(self, pipe: Pipeline, group: pb.CommunityGroup) -> None:
        pipe.set(self.key(group.group_id), group.SerializeToString(deterministic=True))
        pipe.zadd(self.ids_key, {group.group_id: 0})
        pipe.incr(self.version_key)


class GroupCache:
    """The directory as domain groups, reloaded when ``groups-version`` moves."""

    def __init__(self, store: GroupStore) -> None:
        self._store = store
        self._lock = asyncio.Lock()
        self._groups: tuple[CommunityGroup, ...] = ()
        self._version = -1

    async def current(self) -> tuple[CommunityGroup, ...]:
        version = await self._store.version()
        if version == self._version:
            return self._groups
        async with self._lock:
            if version != self._version:
                protos = await self._store.groups(await self._store.ids())
                self._groups = tuple(group_in(g) for g in sorted(protos, key=lambda g: g.group_id))
                self._version = version
            return self._groups


def _parse(raw: Any) -> pb.CommunityGroup | None:
    if raw is None:
        return None
    group = pb.CommunityGroup()
    group.ParseFromString(raw)
    return group
