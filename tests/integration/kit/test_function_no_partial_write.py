"""A Valkey function that errors after its checks: what is left written.

Valkey (like Redis) does not roll back a script: the writes it made before
an error stay. So the project's functions do every check that can refuse
before their first write:

- the scheduler's commit (``commit.lua``): the idempotency record, the
  expected versions and the calendar check, then it vets every op's name,
  and only then writes;
- the kit's guarded write (``GUARDED``, intake and the other
  ``run_blind`` writes): the idempotency record, then the writes;
- the notifier's ``create_notification``: the preferences version and the
  record's existence, then (besides learning a session's match) the writes.

Out of memory cannot stop one half-way: a function without ``allow-oom`` is
refused before it starts. What remains is a write command that fails at run
time, which for these functions only a key of the wrong type can cause (a
key-naming defect or a hand edit): the second test shows that Valkey then
keeps the writes before it, and that no idempotency record is stored, so the
call was never acknowledged and a retry fails the same way, whatever the
client does.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from alongside.kit.functions import fcall
from alongside.kit.redis import client
from alongside.kit.uow import GUARDED
from alongside.scheduler.adapters.functions import COMMIT


@pytest.fixture
async def r(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    conn = client(redis_url)
    yield conn
    await conn.aclose()


def keys(namespace: str, *names: str) -> list[str]:
    tag = uuid.uuid4().hex[:12]
    return [f"{namespace}:proof:{{{tag}}}:{name}" for name in names]


async def test_the_commit_function_vets_every_op_before_its_first_write(r: aioredis.Redis, namespace: str) -> None:
    idem, cal, booked, outbox = keys(namespace, "idem", "cal", "booked", "outbox")
    ops: list[list[object]] = [
        ["hset", 2, "session", 1],
        ["zadd", 3, 1_800_000_000_000, "s1|1800003600000"],
        ["xadd", 4, 2, 3, 4],
        ["idem", 1, 1, 2, 60],
        ["bogus", 2],  # the last op is one the function does not know
    ]
    spec: dict[str, object] = {"sizes": [4, 4, 4, 2], "idem": [1], "ops": ops}
    with pytest.raises(ResponseError, match="unknown op bogus"):
        await fcall(r, COMMIT.name, [idem, cal, booked, outbox], [json.dumps(spec), b"sessbodyhead{}"])
    assert await r.exists(idem, cal, booked, outbox) == 0  # nothing written, not even the first ops

    spec["ops"] = ops[:-1]  # the same call without it commits every op
    assert await fcall(r, COMMIT.name, [idem, cal, booked, outbox], [json.dumps(spec), b"sessbodyhead{}"]) == [b"ok"]
    assert await r.exists(idem, cal, booked, outbox) == 4


async def test_a_refused_check_writes_nothing(r: aioredis.Redis, namespace: str) -> None:
    idem, cal, outbox = keys(namespace, "idem", "cal", "outbox")
    await r.hset(cal, "v", b"2")
    spec = {
        "sizes": [1, 4, 4, 2],
        "idem": [1],
        "expect": [[2, "v", 1]],  # expects version "1": stale
        "ops": [["hset", 2, "v", 2], ["xadd", 3, 2, 3, 4], ["idem", 1, 1, 2, 60]],
    }
    reply = await fcall(r, COMMIT.name, [idem, cal, outbox], [json.dumps(spec), b"1bodyhead{}"])
    assert reply == [b"stale", b"v"]
    assert await r.hget(cal, "v") == b"2"
    assert await r.exists(idem, outbox) == 0


def packed(*commands: tuple[str, ...]) -> tuple[str, str, bytes]:
    counts = ",".join(str(len(c)) for c in commands)
    args = [a.encode() for c in commands for a in c]
    return counts, ",".join(str(len(a)) for a in args), b"".join(args)


async def test_a_write_that_fails_mid_way_keeps_the_writes_before_it_and_acknowledges_nothing(
    r: aioredis.Redis, namespace: str
) -> None:
    idem, first, wrong, third = keys(namespace, "idem", "first", "wrong", "third")
    await r.set(wrong, b"a string, where a hash is expected")
    counts, sizes, args = packed(("HSET", first, "f", "1"), ("HSET", wrong, "f", "1"), ("HSET", third, "f", "1"))
    for _ in range(2):  # the call, then its retry with the same key
        with pytest.raises(ResponseError, match="WRONGTYPE"):
            await fcall(r, GUARDED.name, [idem], [b"fp", b"response", 60, counts, sizes, args])
        # Not rolled back: the write before the failing one stays, the ones after never ran,
        # and no idempotency record says the call succeeded.
        assert await r.hget(first, "f") == b"1"
        assert await r.get(wrong) == b"a string, where a hash is expected"
        assert await r.exists(third, idem) == 0
