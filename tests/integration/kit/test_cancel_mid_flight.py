"""A Redis call cancelled mid-flight leaves the connection in sync.

The classic failure (redis-py CVE-2023-28858 and CVE-2023-28859, fixed in
4.4.4 and 4.5.4; requirements.lock pins a later one): a command is sent, the
caller is cancelled before the reply is read, and the connection goes back to
the pool with that reply still unread, so the next caller on it reads the
previous one's answer. Here Valkey is frozen (SIGSTOP) while calls are on
the wire, on the kit's own client and pool and on its group-committed
function calls; every one of them is cancelled while it waits for its reply;
Valkey is resumed and runs them all (so the stale replies do arrive). Then
many concurrent calls on the same client each get their own reply.

The service-level version (gRPC deadlines cancelling a real matcher's
handlers) is ``tests/integration/matcher/test_cancelled_calls_keep_redis_in_sync.py``.
"""

from __future__ import annotations

import asyncio
import os
import signal
import uuid
from collections.abc import Coroutine
from typing import Any

import redis.asyncio as aioredis

from alongside.kit.events.outbox import Outbox
from alongside.kit.redis import Keys, client
from alongside.kit.testing.servers import ValkeyServer
from alongside.kit.testing.wait import eventually
from alongside.kit.uow import Idempotency, Tx, UnitOfWork

IN_FLIGHT = 24


def awaiting(task: asyncio.Task[Any], name: str) -> bool:
    """Whether ``task`` is suspended inside a coroutine called ``name`` (its await chain)."""
    coro: Any = task.get_coro()
    while coro is not None:
        if getattr(coro, "cr_code", None) is not None and coro.cr_code.co_name == name:
            return True
        coro = getattr(coro, "cr_await", None)
    return False


async def get_calls(r: aioredis.Redis) -> int:
    stats = await r.info("commandstats")
    return int(stats.get("cmdstat_get", {}).get("calls", 0))


async def test_calls_cancelled_while_their_replies_are_on_the_way_leave_the_pool_in_sync(
    own_valkey: ValkeyServer,
) -> None:
    run = uuid.uuid4().hex[:8]
    r = client(own_valkey.url)
    keys = [f"cm:{run}:{i}" for i in range(IN_FLIGHT * 4)]
    await r.mset({key: f"value-of-{key}" for key in keys})
    # Warm the pool: the calls below find open connections and send at once.
    await asyncio.gather(*(r.get(key) for key in keys[:IN_FLIGHT]))
    gets_before = await get_calls(r)
    assert own_valkey.proc is not None
    os.kill(own_valkey.proc.pid, signal.SIGSTOP)
    try:
        doomed: list[asyncio.Task[Any]] = [asyncio.create_task(r.get(key)) for key in keys[:IN_FLIGHT]]
        await eventually(
            lambda: all(awaiting(task, "read_response") for task in doomed), what="every GET sent, awaiting its reply"
        )
        for task in doomed:
            task.cancel()
        outcomes = await asyncio.gather(*doomed, return_exceptions=True)
        assert all(isinstance(o, asyncio.CancelledError) for o in outcomes)
    finally:
        os.kill(own_valkey.proc.pid, signal.SIGCONT)
    assert await get_calls(r) - gets_before >= IN_FLIGHT  # they were on the wire: Valkey ran them

    shuffled = keys[::-1] + keys
    for at in range(0, len(shuffled), IN_FLIGHT * 2):  # within the pool's 100 connections
        some = shuffled[at : at + IN_FLIGHT * 2]
        replies = await asyncio.gather(*(r.get(key) for key in some))
        assert replies == [f"value-of-{key}".encode() for key in some]  # each call its own reply
    await r.aclose()


async def test_group_committed_calls_cancelled_mid_flight_leave_their_connection_in_sync(
    own_valkey: ValkeyServer,
) -> None:
    """The writer of a group commit reads every reply of its batch even when the
    callers went away; the next batch's callers each get their own answer."""
    run = uuid.uuid4().hex[:8]
    r = client(own_valkey.url)
    keys = Keys("t" + run, "test")
    uow = UnitOfWork(r, keys, Outbox(r, keys))

    def write(i: int) -> Coroutine[Any, Any, bytes]:
        def body(tx: Tx) -> bytes:
            tx.pipe.set(keys.key("idem", "v", str(i)), b"%d" % i)
            return b"response-%d" % i

        return uow.run_blind(body, idempotency=Idempotency.of("idem", "Write", f"k{i}", b"%d" % i))

    await write(-1)  # the writer's connection is open
    assert own_valkey.proc is not None
    os.kill(own_valkey.proc.pid, signal.SIGSTOP)
    try:
        doomed = [asyncio.create_task(write(i)) for i in range(IN_FLIGHT)]
        writer = uow._guarded._commit
        await eventually(
            lambda: writer._writer is not None and awaiting(writer._writer, "read_response"),
            what="a batch sent, its writer awaiting the replies",
        )
        for task in doomed:
            task.cancel()
        await asyncio.gather(*doomed, return_exceptions=True)
    finally:
        os.kill(own_valkey.proc.pid, signal.SIGCONT)

    # Replays answer with each key's stored response: a reply read off by one would show.
    for _ in range(3):
        order = list(range(IN_FLIGHT * 2))[::-1]
        replies = await asyncio.gather(*(write(i) for i in order))
        assert replies == [b"response-%d" % i for i in order]
    await r.aclose()
