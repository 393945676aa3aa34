"""Reads of group sessions and their rosters (writes go through ``commit.lua``
and ``enrol.lua``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from alongside.scheduler.adapters.group_codec import decode_group
from alongside.scheduler.adapters.keys import SEP as SCOPE_SEP
from alongside.scheduler.adapters.keys import SchedulerKeys
from alongside.scheduler.adapters.store import SchedulerStore
from alongside.scheduler.domain.groups import Enrolment, Group, RosterEntry


@dataclass(frozen=True)
class Roster:
    """A group's roster as read in one round trip; ``version`` guards a write."""

    version: bytes | None
    entries: dict[str, RosterEntry]
    waiting: list[str] = field(default_factory=list)  # refs in order
    attendance: dict[tuple[int, str], str] = field(default_factory=dict)

    def count(self, status: Enrolment) -> int:
        return sum(1 for e in self.entries.values() if e.status is status)

    def position(self, ref: str) -> int:
        return self.waiting.index(ref) + 1 if ref in self.waiting else 0


class GroupStore:
    def __init__(self, store: SchedulerStore) -> None:
        self.r = store.r
        self.k: SchedulerKeys = store.k

    async def group_raw(self, host: str, group_id: str) -> bytes | None:
        raw: Any = await self.r.hget(self.k.groups(host), group_id)
        return None if raw is None else bytes(raw)

    async def hosted(self, peer_id: str) -> list[Group]:
        found: Any = await self.r.hgetall(self.k.groups(peer_id))
        return [decode_group(bytes(v)) for v in found.values()]

    async def co_facilitated(self, peer_id: str) -> list[str]:
        found: Any = await self.r.smembers(self.k.cogroups(peer_id))
        return sorted(m.decode() for m in found)

    async def facilitated(self, peer_id: str) -> list[Group]:
        """The groups ``peer_id`` hosts, then those they co-facilitate."""
        found = await self.hosted(peer_id)
        for group_id in await self.co_facilitated(peer_id):
            raw = await self.group_raw(group_id.partition(SCOPE_SEP)[0], group_id)
            if raw is not None:
                found.append(decode_group(raw))
        return found

    async def counts(self, host: str, group_id: str) -> tuple[int, int]:
        async with self.r.pipeline(transaction=False) as pipe:
            pipe.zcard(self.k.group(host, group_id, "in"))
            pipe.zcard(self.k.group(host, group_id, "wait"))
            enrolled, waiting = await pipe.execute()
        return int(enrolled), int(waiting)

    async def roster(self, host: str, group_id: str) -> Roster:
        async with self.r.pipeline(transaction=True) as pipe:
            pipe.hgetall(self.k.group(host, group_id))
            pipe.zrange(self.k.group(host, group_id, "wait"), 0, -1)
            pipe.hgetall(self.k.group(host, group_id, "att"))
            state, waiting, att = await pipe.execute()
        entries = {}
        for name, raw in state.items():
            key = name.decode()
            if key.startswith("e:"):
                entries[key[2:]] = RosterEntry.decode(key[2:], raw.decode())
        attendance = {}
        for name, letter in att.items():
            index, _, ref = name.decode().partition("|")
            attendance[(int(index), ref)] = letter.decode()
        version = state.get(b"v")
        return Roster(None if version is None else bytes(version), entries, [m.decode() for m in waiting], attendance)
