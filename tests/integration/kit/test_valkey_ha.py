"""Valkey with a replica and Sentinels: acknowledged writes are on the replica,
and a client that reaches the primary through the Sentinels follows a failover.

Real processes: the primary is killed with SIGKILL while writers run; every
write that was acknowledged must be on the promoted replica, exactly once.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter

import pytest
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from alongside.kit.durable import Durability
from alongside.kit.errors import Unavailable
from alongside.kit.events.outbox import Outbox
from alongside.kit.redis import Keys, client
from alongside.kit.testing.cluster import ValkeyHA
from alongside.kit.testing.wait import eventually
from alongside.kit.uow import Idempotency, Tx, UnitOfWork

DURABLE = Durability(min_replicas=1, timeout_ms=1000)


def _uow(r: aioredis.Redis, namespace: str) -> UnitOfWork:
    keys = Keys(namespace, "test")
    return UnitOfWork(r, keys, Outbox(r, keys))


async def _blind_write(uow: UnitOfWork, namespace: str, item: str) -> None:
    """One idempotent write through the group-committed function (``run_blind``)."""
    counter = Keys(namespace, "test").key(item, "count")

    def body(tx: Tx) -> bytes:
        tx.pipe.incrby(counter, 1)
        return b"ok"

    await uow.run_blind(body, idempotency=Idempotency.of(item, "Write", item, item.encode()))


async def _transaction_write(uow: UnitOfWork, namespace: str, item: str) -> None:
    """One idempotent write through WATCH/MULTI/EXEC (``run``)."""
    counter = Keys(namespace, "test").key(item, "count")

    async def body(tx: Tx) -> bytes:
        await tx.watch(counter)
        tx.begin()
        tx.pipe.incrby(counter, 1)
        return b"ok"

    await uow.run(body, idempotency=Idempotency.of(item, "Write", item, item.encode()))


async def test_a_write_without_a_replica_is_not_acknowledged(redis_url: str, namespace: str) -> None:
    """With REDIS_MIN_REPLICAS=1 and no replica, every kind of write answers
    UNAVAILABLE (after the wait), and reads still answer."""
    r = client(redis_url, Durability(min_replicas=1, timeout_ms=50))
    uow = _uow(r, namespace)
    try:
        with pytest.raises(Unavailable):
            await _blind_write(uow, namespace, "blind")
        with pytest.raises(Unavailable):
            await _transaction_write(uow, namespace, "tx")
        with pytest.raises(Unavailable):
            await r.set(f"{namespace}:plain", b"1")
        assert await r.get(f"{namespace}:plain") == b"1"  # it is written, just not acknowledged as durable
    finally:
        await r.aclose()


async def test_writes_through_sentinel_wait_for_the_replica(valkey_ha: ValkeyHA, namespace: str) -> None:
    r = client(valkey_ha.url, DURABLE)
    uow = _uow(r, namespace)
    try:
        await asyncio.gather(*(_blind_write(uow, namespace, f"b{i}") for i in range(20)))
        await _transaction_write(uow, namespace, "tx")
        assert valkey_ha.replica is not None
        with valkey_ha.admin(valkey_ha.replica) as replica:  # what the replica holds right now
            assert replica.get(Keys(namespace, "test").key("b7", "count")) == b"1"
            assert replica.get(Keys(namespace, "test").key("tx", "count")) == b"1"
    finally:
        await r.aclose()


async def test_no_acknowledged_write_is_lost_when_the_primary_is_killed(valkey_ha: ValkeyHA, namespace: str) -> None:
    """kill -9 of the primary while writers run: Sentinel promotes the replica,
    the client follows by itself, and every acknowledged write is there once
    (the writes OK'd just before the kill included)."""
    r = client(valkey_ha.url, DURABLE)
    uow = _uow(r, namespace)
    acknowledged: list[str] = []
    errors: Counter[str] = Counter()  # what the retries met
    stop = asyncio.Event()

    async def writer(n: int) -> None:
        i = 0
        while not stop.is_set():
            item = f"w{n}-{i}"
            write = _blind_write if i % 2 else _transaction_write
            while True:  # a client retrying with the same idempotency key until it gets an answer
                try:
                    await asyncio.wait_for(write(uow, namespace, item), 5)
                    acknowledged.append(item)
                    break
                except (Unavailable, RedisError, OSError, TimeoutError) as exc:
                    errors[type(exc).__name__] += 1
                    if stop.is_set():
                        return  # never acknowledged: may or may not be there
                    await asyncio.sleep(0.05)
            i += 1

    writers = [asyncio.create_task(writer(n)) for n in range(8)]
    try:
        await eventually(lambda: len(acknowledged) >= 40, timeout=20, what="writes before the fault")
        old = valkey_ha.primary
        old.kill()
        before = len(acknowledged)
        await eventually(lambda: _promoted(valkey_ha, old), timeout=30, what="Sentinel promoted the replica")
        # With one replica, the promoted primary has none: writes wait (and
        # answer UNAVAILABLE) until the old one is back, as its supervisor
        # restarts it, as a replica of the new primary.
        valkey_ha.restart(old)
        await eventually(lambda: len(acknowledged) >= before + 40, timeout=30, what="writes after the failover")
    finally:
        stop.set()
        await asyncio.gather(*writers)
    try:
        keys = Keys(namespace, "test")
        counts = await r.mget([keys.key(item, "count") for item in acknowledged])
        lost = [item for item, count in zip(acknowledged, counts, strict=True) if count is None]
        doubled = [item for item, count in zip(acknowledged, counts, strict=True) if count not in (None, b"1")]
        assert not lost, f"{len(lost)} acknowledged writes lost: {lost[:5]}"
        assert not doubled, f"{len(doubled)} written twice: {doubled[:5]}"
        assert len(set(acknowledged)) == len(acknowledged)
        assert errors, "the fault was never felt"
    finally:
        await r.aclose()


def _promoted(ha: ValkeyHA, old: object) -> bool:
    try:
        return ha.current_primary() is not old
    except LookupError:
        return False


def test_sentinel_url_is_parsed() -> None:
    from alongside.kit.durable import parse_sentinel_url

    found = parse_sentinel_url("redis+sentinel://svc:p%40ss@a:26379,b:26380/alongside/2")
    assert found.sentinels == (("a", 26379), ("b", 26380))
    assert (found.master, found.db, found.username, found.password) == ("alongside", 2, "svc", "p@ss")
    for bad in ("redis+sentinel://a/alongside/0", "redis+sentinel://a:1", "redis+sentinel://a:1/m/x"):
        with pytest.raises(ValueError):
            parse_sentinel_url(bad)


async def test_calls_cancelled_mid_wait_leave_the_connections_in_sync(valkey_ha: ValkeyHA, namespace: str) -> None:
    """Writes cancelled at random points (before, during or after their WAIT)
    never leave a reply on a connection for the next command to read."""
    r = client(valkey_ha.url, DURABLE)
    rng = random.Random(7)
    try:
        for round_ in range(5):
            calls = [
                asyncio.wait_for(r.set(f"{namespace}:c{round_}:{i}", f"v{i}"), rng.uniform(0.0002, 0.004))
                for i in range(40)
            ]
            await asyncio.gather(*calls, return_exceptions=True)  # many time out mid-flight
            for i in range(40):  # each answer is this command's own
                assert await r.get(f"{namespace}:c{round_}:{i}") in (None, f"v{i}".encode())
                assert await r.set(f"{namespace}:after:{i}", b"x") is True
                assert await r.get(f"{namespace}:after:{i}") == b"x"
    finally:
        await r.aclose()
