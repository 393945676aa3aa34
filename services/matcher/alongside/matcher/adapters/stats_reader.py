"""Reads the matcher's own keys for the dashboard, in few round trips.

Requests are found by SCAN over the matcher's request keys (there is no
index of every request, and keeping one only for the dashboard would be a
second truth to keep in step); their fields, matches, peers and loads are
then fetched in pipelined chunks. A year of a 500-peer programme is a few
thousand requests: docs/benchmarks.md has the times.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from alongside.api.matcher.v1 import matcher_pb2 as pb
from alongside.matcher.adapters.store import MatcherStore

SCAN_COUNT = 5000
CHUNK = 1000


@dataclass(frozen=True, slots=True)
class StoredRequest:
    state: pb.MatchRequest
    submitted: pb.SubmitMatchRequestRequest | None  # None once erased


class StatsReader:
    def __init__(self, store: MatcherStore) -> None:
        self.store = store

    async def request_ids(self) -> list[str]:
        prefix = self.store.k.request("")
        pattern = prefix.replace("\\", "\\\\").replace("*", "\\*").replace("?", "\\?").replace("[", "\\[") + "*"
        ids: set[str] = set()
        cursor: Any = 0
        while True:
            cursor, keys = await self.store.r.scan(cursor, match=pattern, count=SCAN_COUNT)
            ids.update(_text(k)[len(prefix) :] for k in keys)
            if not cursor:
                return sorted(ids)

    async def requests(self, ids: Sequence[str]) -> list[StoredRequest]:
        out: list[StoredRequest] = []
        for chunk in _chunks(ids):
            async with self.store.r.pipeline(transaction=False) as pipe:
                for request_id in chunk:
                    pipe.hmget(self.store.k.request(request_id), ["state", "input"])
                rows: list[Any] = await pipe.execute()
            for state_raw, input_raw in rows:
                if state_raw is None:
                    continue
                state = pb.MatchRequest.FromString(state_raw)
                submitted = None if input_raw is None else pb.SubmitMatchRequestRequest.FromString(input_raw)
                out.append(StoredRequest(state, submitted))
        return out

    async def matches(self, ids: Sequence[str]) -> dict[str, pb.Match]:
        out: dict[str, pb.Match] = {}
        for chunk in _chunks(ids):
            raws: list[Any] = await self.store.r.mget([self.store.k.match(i) for i in chunk])
            for raw in raws:
                if raw is not None:
                    match = pb.Match.FromString(raw)
                    out[match.match_id] = match
        return out

    async def roster(self) -> tuple[dict[str, pb.Peer], dict[str, int]]:
        """Every peer and their load (acuity units)."""
        ids = await self.store.peer_ids()
        peers = await self.store.peers_by_id(ids)
        loads = await self.store.loads(ids)
        return peers, dict(zip(ids, loads, strict=True))


def _chunks(ids: Sequence[str]) -> list[Sequence[str]]:
    return [ids[n : n + CHUNK] for n in range(0, len(ids), CHUNK)]


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
