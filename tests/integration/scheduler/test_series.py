"""Weekly series: every occurrence checked, whole or nothing, edits, and DST."""

from __future__ import annotations

import grpc

from alongside.api.scheduler.v1 import events_pb2 as ev
from alongside.api.scheduler.v1 import scheduler_pb2 as pb

from .conftest import Scheduler, rpc_error, ts, utc, window


async def series(s: Scheduler, key: str, start: object, count: int, peer_id: str = "p1") -> pb.BookSessionResponse:
    return await s.book(
        key, peer_id=peer_id, start=start, session_type="follow_up", recurrence=pb.Recurrence(count=count)
    )  # type: ignore[arg-type]


async def sessions_of(s: Scheduler, peer_id: str = "p1") -> list[pb.Session]:
    return list((await s.stub.ListSessions(pb.ListSessionsRequest(peer_id=peer_id, page_size=100))).sessions)


async def test_only_the_third_occurrence_conflicts_and_nothing_is_booked(scheduler: Scheduler) -> None:
    await scheduler.peer("p1")
    blocker = await scheduler.book("single", start=utc(2027, 3, 22, 14, 30))  # Monday 10:30 EDT
    error = await rpc_error(series(scheduler, "ser", utc(2027, 3, 8, 15), 4))  # Mondays 10:00 local
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "occurrence 2" in (error.details() or "")
    assert [x.session_id for x in await sessions_of(scheduler)] == [blocker.session.session_id]
    booked = [e for e in await scheduler.events() if e.type == "session.booked"]
    assert len(booked) == 1


async def test_weekly_10am_stays_10am_across_us_and_european_changes(scheduler: Scheduler) -> None:
    await scheduler.peer("ny", "America/New_York")
    await scheduler.peer("be", "Europe/Berlin")
    us = await series(scheduler, "us", utc(2027, 3, 8, 15), 3, peer_id="ny")  # across 14 March
    eu = await series(scheduler, "eu", utc(2027, 3, 22, 9), 2, peer_id="be")  # across 28 March
    assert [o.peer_local_start for o in us.occurrences] == [
        "2027-03-08T10:00:00-05:00",
        "2027-03-15T10:00:00-04:00",
        "2027-03-22T10:00:00-04:00",
    ]
    assert [o.start.ToDatetime().hour for o in us.occurrences] == [15, 14, 14]  # UTC
    assert [o.peer_local_start for o in eu.occurrences] == ["2027-03-22T10:00:00+01:00", "2027-03-29T10:00:00+02:00"]


async def test_a_time_in_the_repeated_hour_is_unambiguous(scheduler: Scheduler) -> None:
    scheduler.clock.now = utc(2027, 11, 1, 12)
    await scheduler.peer("p1", "America/New_York", [window(7, 0, 4)])  # Sundays 00:00-04:00
    first = await scheduler.book("first", start=utc(2027, 11, 7, 5, 30), session_type="check_in")
    second = await scheduler.book("second", start=utc(2027, 11, 7, 6, 30), session_type="check_in")
    assert first.session.peer_local_start == "2027-11-07T01:30:00-04:00"
    assert second.session.peer_local_start == "2027-11-07T01:30:00-05:00"


async def test_edit_one_occurrence(scheduler: Scheduler) -> None:
    await scheduler.peer("p1")
    booked = await series(scheduler, "ser", utc(2027, 3, 8, 15), 3)
    second = booked.occurrences[1]
    moved = await scheduler.stub.RescheduleSession(
        pb.RescheduleSessionRequest(
            idempotency_key="mv", session_id=second.session_id, new_start=ts(utc(2027, 3, 16, 18)), scope=pb.SCOPE_THIS
        )
    )
    assert moved.sessions[0].session_id == second.session_id
    assert moved.sessions[0].peer_local_start == "2027-03-16T14:00:00-04:00"
    assert moved.sessions[0].sequence == 1
    after = {x.session_id: x.peer_local_start for x in await sessions_of(scheduler)}
    assert after[booked.occurrences[0].session_id] == "2027-03-08T10:00:00-05:00"
    assert after[booked.occurrences[2].session_id] == "2027-03-22T10:00:00-04:00"
    # The old time is free again.
    await scheduler.book("reuse", start=utc(2027, 3, 15, 14))


async def test_cancel_this_and_following(scheduler: Scheduler) -> None:
    await scheduler.peer("p1")
    booked = await series(scheduler, "ser", utc(2027, 3, 8, 15), 4)
    ids = [o.session_id for o in booked.occurrences]
    reply = await scheduler.stub.CancelSession(
        pb.CancelSessionRequest(
            idempotency_key="cx",
            session_id=ids[2],
            reason=pb.CANCEL_REASON_PARTICIPANT_REQUEST,
            scope=pb.SCOPE_THIS_AND_FOLLOWING,
        )
    )
    assert [x.session_id for x in reply.sessions] == ids[2:]
    status = {x.session_id: x.status for x in await sessions_of(scheduler)}
    assert [status[i] for i in ids] == [pb.SESSION_STATUS_BOOKED] * 2 + [pb.SESSION_STATUS_CANCELLED] * 2
    cancelled = [e.parse(ev.SessionCancelled) for e in await scheduler.events() if e.type == "session.cancelled"]
    assert sorted(c.session_id for c in cancelled) == sorted(ids[2:])
    assert {c.reason for c in cancelled} == {pb.CANCEL_REASON_PARTICIPANT_REQUEST}
    await scheduler.book("reuse", start=utc(2027, 3, 29, 14))


async def test_move_this_and_following_books_a_new_checked_series(scheduler: Scheduler) -> None:
    await scheduler.peer("p1")
    booked = await series(scheduler, "ser", utc(2027, 3, 8, 15), 4)
    ids = [o.session_id for o in booked.occurrences]
    reply = await scheduler.stub.RescheduleSession(
        pb.RescheduleSessionRequest(
            idempotency_key="mv",
            session_id=ids[1],
            new_start=ts(utc(2027, 3, 15, 18)),  # 14:00 EDT
            scope=pb.SCOPE_THIS_AND_FOLLOWING,
        )
    )
    assert [x.peer_local_start for x in reply.sessions] == [
        "2027-03-15T14:00:00-04:00",
        "2027-03-22T14:00:00-04:00",
        "2027-03-29T14:00:00-04:00",
    ]
    assert len({x.series_id for x in reply.sessions} | {booked.session.series_id}) == 2
    status = {x.session_id: x for x in await sessions_of(scheduler)}
    assert status[ids[0]].status == pb.SESSION_STATUS_BOOKED
    assert all(status[i].cancel_reason == pb.CANCEL_REASON_RESCHEDULED for i in ids[1:])


# A peer in Chicago on Mondays 08:00-10:00 and a participant in Phoenix (no clock changes) on Mondays
# 06:30-09:00. The series keeps Chicago's wall time, so from 14 March it comes an hour earlier in Phoenix.
CHICAGO_PEER = [window(1, 8, 10)]
PHOENIX_PARTICIPANT = {"participant_time_zone": "America/Phoenix", "participant_availability": [window(1, 6.5, 9)]}


async def test_a_series_that_a_clock_change_would_break_is_refused_naming_the_date(scheduler: Scheduler) -> None:
    await scheduler.peer("chi", "America/Chicago", CHICAGO_PEER)
    # 08:00 in Chicago is 07:00 in Phoenix until 14 March, then 06:00: before the participant's window.
    call = scheduler.book(
        "ser", peer_id="chi", start=utc(2027, 3, 8, 14), session_type="follow_up",
        recurrence=pb.Recurrence(count=4), **PHOENIX_PARTICIPANT,
    )  # fmt: skip
    error = await rpc_error(call)
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error.details() == (
        "occurrence 1 on 2027-03-15 is not bookable: the slot is outside the participant's availability"
        " once the clocks change on 2027-03-14"
    )
    assert await sessions_of(scheduler, "chi") == []


async def test_a_series_without_a_start_takes_the_earliest_time_that_lasts(scheduler: Scheduler) -> None:
    await scheduler.peer("chi", "America/Chicago", CHICAGO_PEER)
    await scheduler.peer("twin", "America/Chicago", CHICAGO_PEER)
    single = await scheduler.book("one", peer_id="twin", session_type="follow_up", **PHOENIX_PARTICIPANT)
    assert single.session.peer_local_start == "2027-03-01T08:00:00-06:00"  # fine for one session
    booked = await scheduler.book(
        "ser", peer_id="chi", session_type="follow_up", recurrence=pb.Recurrence(count=4), **PHOENIX_PARTICIPANT
    )
    # 08:30 in Chicago is 07:30 in Phoenix before the change and 06:30 after: inside the window every week.
    assert [o.peer_local_start for o in booked.occurrences] == [
        "2027-03-01T08:30:00-06:00",
        "2027-03-08T08:30:00-06:00",
        "2027-03-15T08:30:00-05:00",
        "2027-03-22T08:30:00-05:00",
    ]
