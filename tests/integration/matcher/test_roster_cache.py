"""The roster cache never hands out a snapshot older than a write this
replica made before asking, even while another caller is reloading."""

from __future__ import annotations

import asyncio

from alongside.kit.redis import Keys, client
from alongside.matcher.adapters.roster_cache import RosterCache
from alongside.matcher.adapters.store import MatcherStore

from .conftest import peer


class GatedStore(MatcherStore):
    """The real store, whose load reads can be held at a gate."""

    def __init__(self, *args: object) -> None:
        super().__init__(*args)  # type: ignore[arg-type]
        self.gate = asyncio.Event()
        self.gate.set()
        self.reading = asyncio.Event()

    async def loads(self, ids: list[str], via: object = None) -> list[int]:
        self.reading.set()
        await self.gate.wait()
        return await super().loads(ids)


async def test_a_caller_during_a_reload_gets_the_new_loads(redis_url: str, namespace: str) -> None:
    r = client(redis_url)
    store = GatedStore(r, Keys(namespace, "matcher"))
    async with r.pipeline(transaction=True) as pipe:
        store.put_peer(pipe, peer("p-1"))
        await pipe.execute()
    cache = RosterCache(store, recheck_s=60.0)
    assert (await cache.current()).loads.tolist() == [0]

    async with r.pipeline(transaction=True) as pipe:  # an accept in this replica
        store.add_load(pipe, "p-1", 2)
        await pipe.execute()
    cache.invalidate()
    store.gate.clear()
    store.reading.clear()
    first = asyncio.create_task(cache.current())
    await store.reading.wait()  # the first caller is reloading the loads
    second = asyncio.create_task(cache.current())
    await asyncio.sleep(0)  # let the second caller run as far as it can
    store.gate.set()
    snapshots = await asyncio.gather(first, second)
    assert [s.loads.tolist() for s in snapshots] == [[2], [2]]
    await r.aclose()
