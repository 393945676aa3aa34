"""Group meeting reminders through a real scheduler (NATS, Valkey): each
facilitator gets each offset once; a cancelled group gets none, and a
reminder its cancellation missed is dropped unsent; exactly once across a
restart and two replicas."""

from __future__ import annotations

from datetime import datetime, timedelta

import redis.asyncio as aioredis

from alongside.api.scheduler.v1 import events_pb2 as ev
from alongside.api.scheduler.v1 import scheduler_pb2 as pb
from alongside.kit.events.envelope import Event
from alongside.kit.runtime import Runtime
from alongside.kit.testing.wait import eventually
from alongside.scheduler.service.reminders import ReminderLoop

from .conftest import EVERY_DAY, Clock, Scheduler, settings_for, start_scheduler, stream_events, ts, utc

FIRST = utc(2027, 3, 2, 23)  # Tuesday 18:00 in New York; the clock starts Monday 12:00 UTC
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(hours=24)


def rem_key(s: Scheduler, peer_id: str) -> str:
    deps = s.runtime.deps
    assert deps is not None
    return deps.keys.key(f"peer:{peer_id}", "rem")


async def create(s: Scheduler, key: str, host: str, co: str | None, count: int = 3) -> pb.GroupSession:
    request = pb.CreateGroupSessionRequest(
        idempotency_key=key,
        host_peer_id=host,
        co_facilitator_peer_id=co or "",
        capacity=8,
        modality=pb.GROUP_MODALITY_VIDEO,
        duration_minutes=90,
        recurrence=pb.Recurrence(count=count),
    )
    request.start.CopyFrom(ts(FIRST))
    return (await s.stub.CreateGroupSession(request)).group  # type: ignore[no-any-return]


def group_reminders(events: list[Event]) -> list[ev.GroupReminderDue]:
    return [e.parse(ev.GroupReminderDue) for e in events if e.type == "session.group.reminder_due"]


async def wait_group_reminders(s: Scheduler, count: int) -> list[ev.GroupReminderDue]:
    async def enough() -> bool:
        return len(group_reminders(await s.events())) >= count

    await eventually(enough, what=f"{count} group reminders")
    return group_reminders(await s.events())


def reminder_loop(runtime: Runtime) -> ReminderLoop:
    deps = runtime.deps
    assert deps is not None
    owners = [getattr(task, "__self__", None) for task in deps.tasks]  # tasks are bound methods
    return next(owner for owner in owners if isinstance(owner, ReminderLoop))


async def more_polls(*runtimes: Runtime, count: int = 3) -> None:
    """Wait until every runtime's reminder loop has completed ``count`` more polls."""
    loops = [reminder_loop(r) for r in runtimes]
    targets = [loop.polls + count for loop in loops]
    await eventually(
        lambda: all(loop.polls >= t for loop, t in zip(loops, targets, strict=True)), what=f"{count} more polls"
    )


def start_of(r: ev.GroupReminderDue) -> datetime:
    return r.start.ToDatetime().replace(tzinfo=FIRST.tzinfo)


async def test_host_and_co_facilitator_get_each_offset_once(scheduler: Scheduler) -> None:
    await scheduler.peer("gh1", windows=EVERY_DAY)
    await scheduler.peer("gc1", windows=EVERY_DAY)
    group = await create(scheduler, "g", "gh1", "gc1")
    r = scheduler.runtime.deps
    assert r is not None
    # Scheduled with the group: every meeting, both offsets, both facilitators.
    assert await r.redis.zcard(rem_key(scheduler, "gh1")) == 3 * 2
    assert await r.redis.zcard(rem_key(scheduler, "gc1")) == 3 * 2

    scheduler.clock.now = FIRST - DAY + MINUTE
    day_before = await wait_group_reminders(scheduler, 2)
    assert sorted(x.peer_id for x in day_before) == ["gc1", "gh1"]
    assert {(x.group_id, x.occurrence_index, x.offset_minutes) for x in day_before} == {(group.group_id, 0, 1440)}
    assert {start_of(x) for x in day_before} == {FIRST}
    assert {x.reminder_id for x in day_before} == {f"~grp:{group.group_id}.0:1440m:0"}

    scheduler.clock.now = FIRST - HOUR + MINUTE
    fired = await wait_group_reminders(scheduler, 4)
    await more_polls(scheduler.runtime)  # nothing fires again
    fired = group_reminders(await scheduler.events())
    assert sorted((x.peer_id, x.offset_minutes) for x in fired) == [
        ("gc1", 60),
        ("gc1", 1440),
        ("gh1", 60),
        ("gh1", 1440),
    ]
    assert not [e for e in await scheduler.events() if e.type == "session.reminder_due"]
    # The later meetings' reminders wait: 2 meetings x 2 offsets each.
    assert await r.redis.zcard(rem_key(scheduler, "gh1")) == 4


async def test_a_cancelled_group_gets_none(scheduler: Scheduler) -> None:
    await scheduler.peer("gh2", windows=EVERY_DAY)
    await scheduler.peer("gc2", windows=EVERY_DAY)
    group = await create(scheduler, "g", "gh2", "gc2")
    await scheduler.stub.CancelGroupSession(pb.CancelGroupSessionRequest(idempotency_key="cx", group_id=group.group_id))
    r = scheduler.runtime.deps
    assert r is not None
    # Withdrawn with the group, from both facilitators' sets.
    assert await r.redis.zcard(rem_key(scheduler, "gh2")) == 0
    assert await r.redis.zcard(rem_key(scheduler, "gc2")) == 0
    # A co-facilitator's withdrawal that never happened (a crash between the
    # host's commit and the co-facilitator's): the loop drops it unsent.
    # One as it would be left (the old sequence), one with the cancelled
    # group's own sequence: each is checked against the group, for a meeting still ahead.
    strays = [f"~grp:{group.group_id}.2:60m:0", f"~grp:{group.group_id}.2:60m:1"]
    await r.redis.zadd(rem_key(scheduler, "gc2"), dict.fromkeys(strays, 0))
    # A one-to-one session after the group's first meetings shows the loop ran past them.
    control = (await scheduler.book("control", "gh2", FIRST + timedelta(days=8))).session
    scheduler.clock.now = FIRST + timedelta(days=8) - HOUR + MINUTE

    async def control_fired() -> bool:
        events = await scheduler.events()
        return len([e for e in events if e.type == "session.reminder_due"]) >= 2

    await eventually(control_fired, what="the control session's reminders")

    async def stray_dropped() -> bool:
        return await r.redis.zcard(rem_key(scheduler, "gc2")) == 0

    await eventually(stray_dropped, what="the stray reminder claimed")
    events = await scheduler.events()
    assert group_reminders(events) == []
    assert {e.parse(ev.SessionReminderDue).session_id for e in events if e.type == "session.reminder_due"} == {
        control.session_id
    }


async def test_exactly_once_across_restart_and_two_replicas(
    scheduler: Scheduler, nats_url: str, redis_url: str, namespace: str
) -> None:
    await scheduler.peer("gh3", windows=EVERY_DAY)
    await scheduler.peer("gc3", windows=EVERY_DAY)
    group = await create(scheduler, "g", "gh3", "gc3", count=2)
    await scheduler.runtime.stop()
    # While no scheduler runs, the day-before reminders fall due.
    clock = Clock(FIRST - DAY + MINUTE)
    settings = settings_for(nats_url, redis_url, namespace)
    first, second = await start_scheduler(settings, clock), await start_scheduler(settings, clock)
    try:
        deps = first.deps
        assert deps is not None
        redis: aioredis.Redis = deps.redis

        async def fired() -> list[ev.GroupReminderDue]:
            return group_reminders(await stream_events(deps.js, namespace, "session"))

        async def at_least(n: int) -> bool:
            return len(await fired()) >= n

        await eventually(lambda: at_least(2), what="the day-before reminders after restart")
        clock.now = FIRST - HOUR + MINUTE
        await eventually(lambda: at_least(4), what="the hour-before reminders")

        async def relayed() -> bool:
            return not [k async for k in redis.scan_iter(match=deps.keys.pattern("outbox"))]

        await eventually(relayed, what="outbox drained")
        await more_polls(first, second)  # both replicas poll again: nothing fires twice
        await eventually(relayed, what="outbox drained")
        result = await fired()
        assert sorted((x.peer_id, x.offset_minutes) for x in result) == [
            ("gc3", 60),
            ("gc3", 1440),
            ("gh3", 60),
            ("gh3", 1440),
        ]
        assert {(x.group_id, x.occurrence_index) for x in result} == {(group.group_id, 0)}
        assert len({e.id for e in await stream_events(deps.js, namespace, "session")}) == len(
            await stream_events(deps.js, namespace, "session")
        )
    finally:
        await first.stop()
        await second.stop()
