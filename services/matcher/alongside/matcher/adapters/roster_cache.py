"""Each replica's in-memory roster index, kept current through two counters.

Every roster write bumps ``roster-version`` and every load change bumps
``loads-version`` in the same transaction. One MGET tells whether the cached
index (or only its loads) is stale, so scoring never reads the whole roster
on the hot path. Under load the counters are re-read at most every
``recheck_s``: this replica's own writes invalidate at once, other replicas'
show within that interval. Shortlists are advice; accepting re-checks the
live peer and load atomically, so a briefly stale shortlist cannot over-fill.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import numpy as np

from alongside.matcher.adapters.store import MatcherStore
from alongside.matcher.domain.roster_index import RosterIndex
from alongside.matcher.domain.tag_matrix import IntArray
from alongside.matcher.mappers import peer_in


@dataclass(frozen=True)
class Snapshot:
    index: RosterIndex
    loads: IntArray


class RosterCache:
    def __init__(self, store: MatcherStore, recheck_s: float = 0.05) -> None:
        self._store = store
        self._lock = asyncio.Lock()
        self._snapshot: Snapshot | None = None
        self._versions = (-1, -1)
        self._recheck_s = recheck_s
        self._checked_at = float("-inf")
        self._writes = 0  # this replica's invalidations so far

    def invalidate(self) -> None:
        """This replica changed the roster or a load: re-read the counters next time."""
        self._writes += 1
        self._checked_at = float("-inf")

    async def current(self) -> Snapshot:
        now = time.monotonic()
        snapshot = self._snapshot
        if snapshot is not None and now - self._checked_at < self._recheck_s:
            return snapshot
        writes = self._writes
        versions = await self._store.versions()
        async with self._lock:
            if self._snapshot is None or versions[0] != self._versions[0]:
                self._snapshot = await self._load_all()
            elif versions[1] != self._versions[1]:
                index = self._snapshot.index
                loads = await self._store.loads(list(index.peer_ids))
                self._snapshot = Snapshot(index, np.array(loads, dtype=np.int64))
            self._versions = versions
            # Trusted for recheck_s only once it is in place, and only if no
            # write of ours came after the counters were read: until then
            # every caller reads the counters itself and waits for the reload.
            if writes == self._writes:
                self._checked_at = now
            return self._snapshot

    async def _load_all(self) -> Snapshot:
        ids = await self._store.peer_ids()
        protos = await self._store.peers(ids)
        index = RosterIndex([peer_in(p) for p in protos])
        loads = await self._store.loads(list(index.peer_ids))
        return Snapshot(index, np.array(loads, dtype=np.int64))
