"""Reminders: each offset once, none for a cancelled session, fresh ones after a
reschedule, and exactly once across a restart and concurrent replicas."""

from __future__ import annotations

from datetime import timedelta

from alongside.api.scheduler.v1 import events_pb2 as ev
from alongside.api.scheduler.v1 import scheduler_pb2 as pb
from alongside.api.scheduler.v1 import scheduler_pb2_grpc
from alongside.kit.testing.auth import channel as auth_channel
from alongside.kit.testing.wait import eventually

from .conftest import Clock, Scheduler, settings_for, start_scheduler, stream_events, ts, utc

START = utc(2027, 3, 4, 15)  # Thursday 10:00 in New York
MINUTE = timedelta(minutes=1)


async def reminders(s: Scheduler) -> list[ev.SessionReminderDue]:
    return [e.parse(ev.SessionReminderDue) for e in await s.events() if e.type == "session.reminder_due"]


async def wait_reminders(s: Scheduler, count: int) -> list[ev.SessionReminderDue]:
    async def enough() -> bool:
        return len(await reminders(s)) >= count

    await eventually(enough, what=f"{count} reminders")
    return await reminders(s)


async def test_each_offset_fires_once(scheduler: Scheduler) -> None:
    await scheduler.peer("p1")
    session = (await scheduler.book("b", start=START)).session
    scheduler.clock.now = START - timedelta(hours=24) + MINUTE
    (day_before,) = await wait_reminders(scheduler, 1)
    assert (day_before.session_id, day_before.offset_minutes) == (session.session_id, 1440)
    scheduler.clock.now = START - timedelta(hours=1) + MINUTE
    fired = await wait_reminders(scheduler, 2)
    assert sorted(r.offset_minutes for r in fired) == [60, 1440]


async def test_cancelled_session_gets_none(scheduler: Scheduler) -> None:
    await scheduler.peer("p1")
    gone = (await scheduler.book("gone", start=START)).session
    kept = (await scheduler.book("kept", start=START + timedelta(hours=2))).session
    await scheduler.stub.CancelSession(
        pb.CancelSessionRequest(idempotency_key="cx", session_id=gone.session_id, reason=pb.CANCEL_REASON_OTHER)
    )
    scheduler.clock.now = kept.start.ToDatetime().replace(tzinfo=START.tzinfo) - timedelta(hours=1) + MINUTE
    fired = await wait_reminders(scheduler, 2)
    assert {r.session_id for r in fired} == {kept.session_id}


async def test_reschedule_drops_old_reminders_and_adds_new(scheduler: Scheduler) -> None:
    await scheduler.peer("p1")
    session = (await scheduler.book("b", start=START)).session
    later = START + timedelta(days=1)
    await scheduler.stub.RescheduleSession(
        pb.RescheduleSessionRequest(idempotency_key="mv", session_id=session.session_id, new_start=ts(later))
    )
    scheduler.clock.now = later - timedelta(hours=1) + MINUTE  # past every old and new due time
    fired = await wait_reminders(scheduler, 2)
    assert sorted(r.reminder_id for r in fired) == [f"{session.session_id}:1440m:1", f"{session.session_id}:60m:1"]
    assert {r.start.ToDatetime().replace(tzinfo=START.tzinfo) for r in fired} == {later}


async def test_exactly_once_across_restart_and_two_replicas(
    scheduler: Scheduler, nats_url: str, redis_url: str, namespace: str
) -> None:
    await scheduler.peer("p1")
    session = (await scheduler.book("b", start=START)).session
    await scheduler.runtime.stop()
    # While no scheduler runs, the day-before reminder falls due.
    clock = Clock(START - timedelta(hours=24) + MINUTE)
    settings = settings_for(nats_url, redis_url, namespace)
    first, second = await start_scheduler(settings, clock), await start_scheduler(settings, clock)
    try:
        deps = first.deps
        assert deps is not None
        js = deps.js

        async def fired() -> list[ev.SessionReminderDue]:
            events = await stream_events(js, namespace, "session")
            return [e.parse(ev.SessionReminderDue) for e in events if e.type == "session.reminder_due"]

        async def one() -> bool:
            return len(await fired()) >= 1

        await eventually(one, what="the reminder after restart")
        clock.now = START - timedelta(hours=1) + MINUTE

        async def two() -> bool:
            return len(await fired()) >= 2

        await eventually(two, what="the hour-before reminder")
        async with auth_channel(f"127.0.0.1:{second.port}") as channel:
            stub = scheduler_pb2_grpc.SchedulerServiceStub(channel)
            got = await stub.GetSession(pb.GetSessionRequest(session_id=session.session_id))
            assert got.session.status == pb.SESSION_STATUS_BOOKED

        async def relayed() -> bool:
            return not [k async for k in deps.redis.scan_iter(match=deps.keys.pattern("outbox"))]

        await eventually(relayed, what="outbox drained")
        result = await fired()
        assert sorted(r.offset_minutes for r in result) == [60, 1440]
    finally:
        await first.stop()
        await second.stop()
