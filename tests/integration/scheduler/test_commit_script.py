"""commit.lua (the scheduler's commit function) answers exactly as the domain's
rules: overlap with buffer, time off, cap."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import redis.asyncio as aioredis

from alongside.kit.functions import FunctionMissing
from alongside.kit.redis import client
from alongside.kit.testing.servers import ValkeyServer, provision_functions
from alongside.scheduler.adapters.commit import Candidate, Commit, Committer
from alongside.scheduler.adapters.store import span_value
from alongside.scheduler.domain.intervals import conflicts
from alongside.scheduler.domain.model import Interval

DAY = timedelta(days=1)
BUFFER = timedelta(minutes=15)
CAP = 3
BASE = datetime(2027, 3, 1, tzinfo=UTC)


def ms(instant: datetime) -> int:
    return int(instant.timestamp() * 1000)


@pytest.fixture
async def r(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    conn = client(redis_url)
    yield conn
    await conn.aclose()


def candidate(slot: Interval) -> Candidate:
    day = datetime(slot.start.year, slot.start.month, slot.start.day, tzinfo=UTC)
    return Candidate(ms(slot.start), ms(slot.end), ms(day), ms(day + DAY))


def expected(slot: Interval, booked: list[Interval], off: list[Interval]) -> str:
    """The domain's order: time off, then conflict (buffer included), then the daily cap."""
    if any(slot.overlaps(o) for o in off):
        return "time_off"
    if conflicts(slot, booked, BUFFER):
        return "conflict"
    if sum(1 for b in booked if b.start.date() == slot.start.date()) >= CAP:
        return "daily_cap"
    return "ok"


async def test_the_script_agrees_with_the_domain_on_random_calendars(r: aioredis.Redis, namespace: str) -> None:
    committer, rng = Committer(r), random.Random(11)
    seen: set[str] = set()
    for trial in range(150):
        booked_key, off_key = f"{namespace}:{{t{trial}}}:booked", f"{namespace}:{{t{trial}}}:off"
        booked: list[Interval] = []
        off: list[Interval] = []
        for i in range(rng.randint(0, 6)):
            start = BASE + timedelta(minutes=15 * rng.randrange(2 * 96))
            span = Interval(start, start + timedelta(minutes=rng.choice((30, 45, 60))))
            booked.append(span)
            await r.zadd(booked_key, {f"s{i}|{ms(span.end)}": ms(span.start)})
        if rng.random() < 0.3:
            start = BASE + timedelta(hours=rng.randrange(48))
            off.append(Interval(start, start + timedelta(hours=rng.randint(1, 5))))
            await r.hset(off_key, "o1", span_value(off[0]))
        start = BASE + timedelta(minutes=15 * rng.randrange(2 * 96))
        slot = Interval(start, start + timedelta(minutes=rng.choice((30, 60, 90))))
        commit = Commit()
        commit.check(booked_key, off_key, [candidate(slot)], buffer_ms=15 * 60_000, maxlen_ms=8 * 3_600_000, cap=CAP)
        outcome = await committer.run(commit)
        assert outcome.kind == expected(slot, booked, off), (trial, slot, booked, off)
        seen.add(outcome.kind)
    assert seen == {"ok", "conflict", "time_off", "daily_cap"}


async def test_nothing_is_written_when_a_check_fails(r: aioredis.Redis, namespace: str) -> None:
    booked_key, off_key, record = f"{namespace}:{{t}}:booked", f"{namespace}:{{t}}:off", f"{namespace}:{{t}}:rec"
    taken = Interval(BASE + timedelta(hours=10), BASE + timedelta(hours=11))
    await r.zadd(booked_key, {f"a|{ms(taken.end)}": ms(taken.start)})
    first = Interval(BASE + timedelta(days=1, hours=10), BASE + timedelta(days=1, hours=11))
    clash = Interval(BASE + timedelta(hours=11, minutes=10), BASE + timedelta(hours=12))
    commit = Commit()
    commit.check(
        booked_key, off_key, [candidate(first), candidate(clash)], buffer_ms=15 * 60_000, maxlen_ms=8 * 3_600_000, cap=4
    )
    commit.hset(record, "x", b"written")
    commit.zadd(booked_key, ms(first.start), f"b|{ms(first.end)}")
    outcome = await Committer(r).run(commit)
    assert (outcome.kind, outcome.index) == ("conflict", 1)
    assert await r.hget(record, "x") is None
    assert await r.zcard(booked_key) == 1


async def test_a_stale_expectation_and_a_replay(r: aioredis.Redis, namespace: str) -> None:
    record, idem = f"{namespace}:{{t}}:rec", f"{namespace}:{{t}}:idem"
    await r.hset(record, "s1", b"v2")
    stale = Commit()
    stale.expect(record, "s1", b"v1")
    stale.hset(record, "s1", b"v3")
    assert (await Committer(r).run(stale)).kind == "stale"
    assert await r.hget(record, "s1") == b"v2"
    first = Commit()
    first.replay_from(idem)
    first.remember(idem, b"fp", b"answer", 60)
    assert (await Committer(r).run(first)).kind == "ok"
    again = await Committer(r).run(first)
    assert (again.kind, again.fingerprint, again.response) == ("replay", b"fp", b"answer")


async def test_a_conflict_names_the_session_in_the_way(r: aioredis.Redis, namespace: str) -> None:
    booked_key, off_key = f"{namespace}:{{t}}:booked", f"{namespace}:{{t}}:off"
    taken = Interval(BASE + timedelta(hours=10), BASE + timedelta(hours=11))
    await r.zadd(booked_key, {f"a|{ms(taken.end)}": ms(taken.start)})
    commit = Commit()
    clash = Interval(BASE + timedelta(hours=11, minutes=5), BASE + timedelta(hours=12))
    commit.check(booked_key, off_key, [candidate(clash)], buffer_ms=15 * 60_000, maxlen_ms=8 * 3_600_000, cap=4)
    outcome = await Committer(r).run(commit)
    assert (outcome.kind, outcome.taken) == ("conflict", (ms(taken.start), ms(taken.end)))


async def test_commits_sent_together_share_round_trips_each_atomic(r: aioredis.Redis, namespace: str) -> None:
    booked_key, off_key = f"{namespace}:{{t}}:booked", f"{namespace}:{{t}}:off"
    slot = Interval(BASE + timedelta(hours=10), BASE + timedelta(hours=11))
    committer = Committer(r)

    def attempt(i: int) -> Commit:
        commit = Commit()
        commit.check(booked_key, off_key, [candidate(slot)], buffer_ms=15 * 60_000, maxlen_ms=8 * 3_600_000, cap=4)
        commit.zadd(booked_key, ms(slot.start), f"s{i}|{ms(slot.end)}")
        return commit

    outcomes = await asyncio.gather(*(committer.run(attempt(i)) for i in range(50)))
    assert sorted(o.kind for o in outcomes) == ["conflict"] * 49 + ["ok"]
    assert await r.zcard(booked_key) == 1
    assert committer.round_trips < 50


async def test_a_function_the_server_lost_fails_every_call_clearly(own_valkey: ValkeyServer, namespace: str) -> None:
    """Services never load code: if an operator flushed the functions, each
    call fails with a message saying how to load them again, nothing runs
    half-way, and once they are loaded the same committer works again."""
    record = f"{namespace}:{{t}}:rec"
    r = client(own_valkey.url)
    committer = Committer(r)

    def write(i: int) -> Commit:
        commit = Commit()
        commit.hset(record, f"x{i}", b"written")
        return commit

    try:
        await r.function_delete("alongside_scheduler")  # own_valkey has no ACL: r is its operator too
        failed = await asyncio.gather(*(committer.run(write(i)) for i in range(5)), return_exceptions=True)
        assert all(isinstance(f, FunctionMissing) for f in failed), failed
        assert "alongside valkey provision" in str(failed[0])
        assert await r.exists(record) == 0
        assert provision_functions(own_valkey.url) == ["alongside_scheduler"]
        assert (await committer.run(write(0))).kind == "ok"
    finally:
        await r.aclose()
