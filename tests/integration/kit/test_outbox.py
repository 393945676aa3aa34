"""The outbox: state and event are committed together and delivered once."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Callable

import pytest
import redis.asyncio as aioredis
from nats.js.errors import NoStreamResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from alongside.api.matcher.v1 import events_pb2
from alongside.kit import redis as kit_redis
from alongside.kit.errors import InvalidArgument
from alongside.kit.events.envelope import Event
from alongside.kit.events.outbox import Outbox, OutboxRelay
from alongside.kit.events.streams import CATALOGUE, provision, stream_name
from alongside.kit.redis import Keys
from alongside.kit.testing.servers import ValkeyServer
from alongside.kit.uow import Idempotency, Tx, UnitOfWork

from ..conftest import Kit

MATCH = next(s for s in CATALOGUE if s.name == "MATCH")


def declined(request_id: str) -> Event:
    return Event.of("match.declined", "/test", events_pb2.MatchDeclined(request_id=request_id, peer_id="p1"))


async def stream_messages(kit: Kit) -> int:
    info = await kit.js.stream_info(stream_name(kit.namespace, MATCH))
    return int(info.state.messages)


async def write_with_event(kit: Kit, request_id: str) -> Event:
    event = declined(request_id)

    async def body(tx: Tx) -> bytes:
        tx.begin()
        tx.pipe.set(kit.keys.key("req", request_id), b"declined")
        tx.emit("req", event)
        return b"ok"

    await kit.uow.run(body)
    return event


async def test_crash_between_commit_and_publish_still_delivers_once(kit: Kit) -> None:
    # The writer commits state + outbox, then "crashes": no relay ran, and its
    # in-memory hint died with it, so only the sweep can find the entry.
    await write_with_event(kit, "r1")
    assert await kit.redis.get(kit.keys.key("req", "r1")) == b"declined"
    assert await stream_messages(kit) == 0

    # A restarted process (fresh objects) relays it; two relays racing, plus a
    # re-run, still leave exactly one message in the stream.
    fresh = Outbox(kit.redis, kit.keys)
    relays = [OutboxRelay(kit.redis, kit.js, fresh, kit.keys, kit.namespace) for _ in range(2)]
    assert await relays[0].drain() == 0  # no hint: a plain drain finds nothing
    await asyncio.gather(*(relay.drain(sweep=True) for relay in relays))
    await relays[0].drain(sweep=True)
    assert await stream_messages(kit) == 1
    assert await kit.redis.exists(kit.outbox.key("req")) == 0


async def test_crash_after_publish_before_trim_is_deduplicated(kit: Kit) -> None:
    event = await write_with_event(kit, "r2")
    # Publish as the relay would, then "crash" before deleting the entry.
    await kit.js.publish(event.nats_subject(kit.namespace), event.body, headers=event.headers())
    relay = OutboxRelay(kit.redis, kit.js, kit.outbox, kit.keys, kit.namespace)
    assert await relay.drain() == 1
    assert await stream_messages(kit) == 1


async def test_a_publish_nobody_stores_keeps_the_entry_until_one_is_stored(kit: Kit) -> None:
    await write_with_event(kit, "r5")
    name = stream_name(kit.namespace, MATCH)
    await kit.js.delete_stream(name)  # no stream takes match.* now: the publish is refused
    relay = OutboxRelay(kit.redis, kit.js, kit.outbox, kit.keys, kit.namespace)
    with pytest.raises(NoStreamResponseError):
        await relay.drain()
    assert await kit.redis.xlen(kit.outbox.key("req")) == 1, "trimmed an entry that was never stored"
    await provision(kit.js, kit.namespace)
    assert await relay.drain() == 1
    assert await stream_messages(kit) == 1


async def test_relay_publishes_binary_cloudevent(kit: Kit) -> None:
    event = await write_with_event(kit, "r3")
    sub = await kit.js.subscribe(f"{kit.namespace}.match.declined", ordered_consumer=True)
    await OutboxRelay(kit.redis, kit.js, kit.outbox, kit.keys, kit.namespace).drain()
    msg = await sub.next_msg(timeout=5)
    assert msg.headers is not None
    assert msg.headers["Nats-Msg-Id"] == event.id
    assert msg.headers["ce-type"] == "match.declined"
    assert Event.from_headers(msg.headers, msg.data).parse(events_pb2.MatchDeclined).request_id == "r3"


async def test_failed_write_emits_nothing(kit: Kit) -> None:
    async def body(tx: Tx) -> bytes:
        tx.emit("req", declined("r4"))
        raise ValueError("the use case refused")

    with pytest.raises(ValueError):
        await kit.uow.run(body)
    assert await kit.redis.exists(kit.outbox.key("req")) == 0


async def test_idempotent_replay_returns_first_result_and_emits_nothing(kit: Kit) -> None:
    calls = 0

    async def body(tx: Tx) -> bytes:
        nonlocal calls
        calls += 1
        tx.emit("req", declined("r5"))
        return f"result-{calls}".encode()

    idem = Idempotency.of("req", "Decline", "key-1", b"payload")
    first = await kit.uow.run(body, idempotency=idem)
    again = await kit.uow.run(body, idempotency=idem)
    assert first == again == b"result-1"
    assert calls == 1
    assert await kit.redis.xlen(kit.outbox.key("req")) == 1


async def test_idempotency_key_reused_for_another_request_is_rejected(kit: Kit) -> None:

    async def body(tx: Tx) -> bytes:
        return b"x"

    await kit.uow.run(body, idempotency=Idempotency.of("req", "Op", "key-2", b"a"))
    with pytest.raises(InvalidArgument, match="idempotency_key"):
        await kit.uow.run(body, idempotency=Idempotency.of("req", "Op", "key-2", b"b"))


async def test_concurrent_writers_of_one_key_serialise(kit: Kit) -> None:
    counter = kit.keys.key("req", "counter")

    async def increment(tx: Tx) -> bytes:
        await tx.watch(counter)
        value = int(await tx.pipe.get(counter) or 0)
        await asyncio.sleep(0)  # let the others read the same value
        tx.begin()
        tx.pipe.set(counter, value + 1)
        return b""

    results = await asyncio.gather(*(kit.uow.run(increment, attempts=50) for _ in range(20)), return_exceptions=True)
    done = sum(1 for r in results if r == b"")
    assert int(await kit.redis.get(counter) or 0) == done


async def test_blind_write_is_idempotent_in_one_atomic_step(kit: Kit) -> None:
    calls = 0

    def body(tx: Tx) -> bytes:
        nonlocal calls
        calls += 1
        tx.pipe.hset(kit.keys.key("req", "blind"), mapping={"n": calls, "bin": b"\x00,9\r\n", "empty": "", "f": 0.5})
        tx.emit("req", declined("blind"))
        return f"first-{calls}".encode()

    idem = Idempotency.of("req", "Blind", "k", b"payload")
    assert await kit.uow.run_blind(body, idempotency=idem) == b"first-1"
    assert await kit.uow.run_blind(body, idempotency=idem) == b"first-1"
    stored = await kit.redis.hgetall(kit.keys.key("req", "blind"))
    assert stored == {b"n": b"1", b"bin": b"\x00,9\r\n", b"empty": b"", b"f": b"0.5"}  # the replay wrote nothing
    assert await kit.redis.xlen(kit.outbox.key("req")) == 1  # and emitted nothing
    with pytest.raises(InvalidArgument):
        await kit.uow.run_blind(body, idempotency=Idempotency.of("req", "Blind", "k", b"other"))


async def test_concurrent_blind_writes_share_round_trips_and_each_lands_once(kit: Kit) -> None:
    def body_for(i: int) -> Callable[[Tx], bytes]:
        def body(tx: Tx) -> bytes:
            tx.pipe.set(kit.keys.key("req", f"many-{i}"), str(i))
            tx.emit("req", declined(f"many-{i}"))
            return f"done-{i}".encode()

        return body

    before = kit.uow._guarded.round_trips
    keys = [Idempotency.of("req", "Many", f"k{i}", b"x") for i in range(40)]
    writes = [kit.uow.run_blind(body_for(i), idempotency=key) for i, key in enumerate(keys)]
    assert await asyncio.gather(*writes) == [f"done-{i}".encode() for i in range(40)]
    assert kit.uow._guarded.round_trips - before < 40, "each write took its own round trip"
    assert await kit.redis.xlen(kit.outbox.key("req")) == 40
    assert [await kit.redis.get(kit.keys.key("req", f"many-{i}")) for i in range(40)] == [
        str(i).encode() for i in range(40)
    ]


async def test_blind_writes_go_on_after_redis_restarts(own_valkey: ValkeyServer) -> None:
    r = kit_redis.client(own_valkey.url)
    keys = Keys("restart", "test")
    uow = UnitOfWork(r, keys, Outbox(r, keys))

    def body_for(n: int) -> Callable[[Tx], bytes]:
        def body(tx: Tx) -> bytes:
            tx.pipe.set(keys.key("req", f"after-{n}"), str(n))
            return f"ok-{n}".encode()

        return body

    try:
        assert await uow.run_blind(body_for(1), idempotency=Idempotency.of("req", "R", "k1", b"1")) == b"ok-1"
        own_valkey.stop()
        own_valkey.start()  # the writer's kept connection is dead now
        assert await uow.run_blind(body_for(2), idempotency=Idempotency.of("req", "R", "k2", b"2")) == b"ok-2"
        assert await r.get(keys.key("req", "after-2")) == b"2"
    finally:
        await r.aclose()


@pytest.mark.serial  # fails within 2 s
async def test_blind_write_to_a_hung_redis_fails_in_time_then_goes_on(own_valkey: ValkeyServer) -> None:
    """The kept connection has one deadline per exchange (the client's socket
    timeout): a server that stops answering gives redis's TimeoutError, which
    callers answer as UNAVAILABLE, not a hang; once it answers, writes go on."""
    r = aioredis.Redis.from_url(own_valkey.url, socket_timeout=0.3)
    keys = Keys("hung", "test")
    uow = UnitOfWork(r, keys, Outbox(r, keys))

    def body(tx: Tx) -> bytes:
        tx.pipe.set(keys.key("req", "x"), "1")
        return b"ok"

    assert own_valkey.proc is not None
    try:
        assert await uow.run_blind(body, idempotency=Idempotency.of("req", "R", "k1", b"1")) == b"ok"
        os.kill(own_valkey.proc.pid, signal.SIGSTOP)
        began = time.monotonic()
        try:
            with pytest.raises(RedisTimeoutError):
                await uow.run_blind(body, idempotency=Idempotency.of("req", "R", "k2", b"2"))
            assert time.monotonic() - began < 2.0  # two attempts of 0.3 s, not redis-py's 5 s each
        finally:
            os.kill(own_valkey.proc.pid, signal.SIGCONT)
        assert await uow.run_blind(body, idempotency=Idempotency.of("req", "R", "k3", b"3")) == b"ok"
    finally:
        await r.aclose()
