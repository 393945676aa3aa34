"""Reads the matcher's own keys for the dashboard, in two round trips: the
compact facts of every request and match (``stats_facts``, written with
each record) and the roster with its loads."""

from __future__ import annotations

from dataclasses import dataclass

from alongside.api.matcher.v1 import matcher_pb2 as pb
from alongside.matcher.adapters.store import MatcherStore


@dataclass(frozen=True)
class Facts:
    """The stored facts as they came: field -> value, both bytes (``stats_facts``)."""

    requests: dict[bytes, bytes]
    tags: dict[bytes, bytes]
    matches: dict[bytes, bytes]


class StatsReader:
    def __init__(self, store: MatcherStore) -> None:
        self.store = store

    async def facts(self) -> Facts:
        k = self.store.k
        async with self.store.r.pipeline(transaction=False) as pipe:
            pipe.hgetall(k.stats_requests)
            pipe.hgetall(k.stats_tags)
            pipe.hgetall(k.stats_matches)
            requests, tags, matches = await pipe.execute()
        return Facts(requests, tags, matches)

    async def roster(self) -> tuple[dict[str, pb.Peer], dict[str, int]]:
        """Every peer and their load (acuity units)."""
        ids = await self.store.peer_ids()
        peers = await self.store.peers_by_id(ids)
        loads = await self.store.loads(ids)
        return peers, dict(zip(ids, loads, strict=True))
