"""BookSession: explicit and earliest slots, idempotent replay, buffers, daily cap."""

from __future__ import annotations

from datetime import timedelta

import grpc

from alongside.api.scheduler.v1 import events_pb2 as ev
from alongside.api.scheduler.v1 import scheduler_pb2 as pb

from .conftest import Scheduler, rpc_error, utc


async def test_explicit_slot_is_booked_and_published(scheduler: Scheduler) -> None:
    await scheduler.peer("p1")
    reply = await scheduler.book("b1", start=utc(2027, 3, 2, 15), session_type="intake")
    session = reply.session
    assert session.session_id.startswith("p1~")
    assert session.status == pb.SESSION_STATUS_BOOKED
    assert session.peer_local_start == "2027-03-02T10:00:00-05:00"
    assert session.end.ToDatetime() - session.start.ToDatetime() == timedelta(minutes=60)
    got = await scheduler.stub.GetSession(pb.GetSessionRequest(session_id=session.session_id))
    assert got.session == session
    (event,) = [e for e in await scheduler.events() if e.type == "session.booked"]
    assert event.parse(ev.SessionBooked).session_id == session.session_id


async def test_earliest_slot_when_no_start_is_given(scheduler: Scheduler) -> None:
    await scheduler.peer("p1")
    reply = await scheduler.book("b1")
    # NOW is Monday 07:00 in New York; two hours' lead puts the first slot at 09:00.
    assert reply.session.peer_local_start == "2027-03-01T09:00:00-05:00"
    second = await scheduler.book("b2")
    # 60-minute intake + 15-minute buffer.
    assert second.session.peer_local_start == "2027-03-01T10:15:00-05:00"


async def test_replay_returns_the_first_answer_and_publishes_once(scheduler: Scheduler) -> None:
    await scheduler.peer("p1")
    first = await scheduler.book("same", start=utc(2027, 3, 2, 15))
    again = await scheduler.book("same", start=utc(2027, 3, 2, 15))
    assert again == first
    booked = [e for e in await scheduler.events() if e.type == "session.booked"]
    assert len(booked) == 1
    error = await rpc_error(scheduler.book("same", start=utc(2027, 3, 2, 17)))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and "idempotency_key" in (error.details() or "")


async def test_buffer_is_part_of_the_conflict(scheduler: Scheduler) -> None:
    await scheduler.peer("p1")
    await scheduler.book("a", start=utc(2027, 3, 2, 15))  # 10:00-11:00 local
    inside_buffer = await rpc_error(scheduler.book("b", start=utc(2027, 3, 2, 16, 10)))
    assert inside_buffer.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "buffers included" in (inside_buffer.details() or "")
    after_buffer = await scheduler.book("c", start=utc(2027, 3, 2, 16, 15))
    assert after_buffer.session.peer_local_start == "2027-03-02T11:15:00-05:00"


async def test_daily_cap_counts_the_peers_local_day(scheduler: Scheduler) -> None:
    await scheduler.peer("p1")
    for i, hour in enumerate((14, 15, 17, 19)):  # 09:00, 10:15.. local; four is the cap
        await scheduler.book(f"cap{i}", start=utc(2027, 3, 2, hour, 15 if hour == 15 else 0), session_type="check_in")
    fifth = await rpc_error(scheduler.book("cap5", start=utc(2027, 3, 2, 21), session_type="check_in"))
    assert fifth.code() == grpc.StatusCode.FAILED_PRECONDITION and "daily session cap" in (fifth.details() or "")
    next_day = await scheduler.book("cap6", start=utc(2027, 3, 3, 14), session_type="check_in")
    assert next_day.session.status == pb.SESSION_STATUS_BOOKED
