"""ListSessions by peer, by participant and by time range, paged; time off."""

from __future__ import annotations

from datetime import timedelta

import grpc

from alongside.api.scheduler.v1 import scheduler_pb2 as pb

from .conftest import NOW, Scheduler, rpc_error, ts, utc


async def pages(s: Scheduler, request: pb.ListSessionsRequest) -> list[list[str]]:
    out = []
    while True:
        reply = await s.stub.ListSessions(request)
        out.append([x.session_id for x in reply.sessions])
        if not reply.next_page_token:
            return out
        request.page_token = reply.next_page_token


async def test_list_by_peer_participant_and_range(scheduler: Scheduler) -> None:
    await scheduler.peer("p1")
    await scheduler.peer("p2")
    ids: dict[str, str] = {}
    for day, date in enumerate((2, 3, 4, 5, 8), start=1):  # weekdays in March 2027
        for peer_id in ("p1", "p2"):
            key = f"{peer_id}-{day}"
            ref = "shared" if day % 2 else f"ref-{key}"
            reply = await scheduler.stub.BookSession(
                pb.BookSessionRequest(
                    idempotency_key=key, peer_id=peer_id, participant_ref=ref, start=ts(utc(2027, 3, date, 15))
                )
            )
            ids[key] = reply.session.session_id
    by_peer = await pages(scheduler, pb.ListSessionsRequest(peer_id="p1", page_size=2))
    assert by_peer == [[ids["p1-1"], ids["p1-2"]], [ids["p1-3"], ids["p1-4"]], [ids["p1-5"]]]
    shared = await pages(scheduler, pb.ListSessionsRequest(participant_ref="shared", page_size=4))
    flat = [i for page in shared for i in page]
    assert set(flat) == {ids[f"{p}-{d}"] for p in ("p1", "p2") for d in (1, 3, 5)}
    assert len(flat) == 6 and len(shared) == 2
    window = pb.ListSessionsRequest(start=ts(utc(2027, 3, 3)), end=ts(utc(2027, 3, 5)), page_size=10)
    (in_range,) = await pages(scheduler, window)
    assert set(in_range) == {ids["p1-2"], ids["p2-2"], ids["p1-3"], ids["p2-3"]}


async def test_time_off_blocks_slots_and_can_be_removed(scheduler: Scheduler) -> None:
    await scheduler.peer("p1")
    booked = await scheduler.book("b", start=utc(2027, 3, 2, 15))
    off = await scheduler.stub.AddTimeOff(
        pb.AddTimeOffRequest(idempotency_key="off", peer_id="p1", start=ts(utc(2027, 3, 2)), end=ts(utc(2027, 3, 3)))
    )
    assert list(off.overlapping_session_ids) == [booked.session.session_id]
    refused = await rpc_error(scheduler.book("c", start=utc(2027, 3, 2, 19)))
    assert refused.code() == grpc.StatusCode.FAILED_PRECONDITION and "time off" in (refused.details() or "")
    slots = await scheduler.stub.FindSlots(pb.FindSlotsRequest(peer_id="p1", session_type="intake", limit=50))
    assert all(
        not (utc(2027, 3, 2) <= s.start.ToDatetime().replace(tzinfo=NOW.tzinfo) < utc(2027, 3, 3)) for s in slots.slots
    )
    await scheduler.stub.RemoveTimeOff(
        pb.RemoveTimeOffRequest(idempotency_key="rm", peer_id="p1", time_off_id=off.time_off.time_off_id)
    )
    assert (await scheduler.book("c", start=utc(2027, 3, 2, 19))).session.session_id


async def test_attendance_is_recorded_once_the_session_began(scheduler: Scheduler) -> None:
    await scheduler.peer("p1")
    session = (await scheduler.book("b", start=NOW + timedelta(hours=3))).session
    early = await rpc_error(
        scheduler.stub.MarkAttended(pb.MarkAttendedRequest(idempotency_key="a", session_id=session.session_id))
    )
    assert early.code() == grpc.StatusCode.FAILED_PRECONDITION
    scheduler.clock.advance(timedelta(hours=3, minutes=5))
    done = await scheduler.stub.MarkAttended(
        pb.MarkAttendedRequest(idempotency_key="a2", session_id=session.session_id)
    )
    assert done.session.status == pb.SESSION_STATUS_ATTENDED
    again = await rpc_error(
        scheduler.stub.MarkNoShow(pb.MarkNoShowRequest(idempotency_key="n", session_id=session.session_id))
    )
    assert again.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert [e.type for e in await scheduler.events()] == ["session.booked", "session.completed"]


async def test_notice_window_needs_staff_override(scheduler: Scheduler) -> None:
    await scheduler.peer("p1")
    session = (await scheduler.book("b", start=NOW + timedelta(hours=5))).session
    cancel = pb.CancelSessionRequest(idempotency_key="c", session_id=session.session_id, reason=pb.CANCEL_REASON_OTHER)
    refused = await rpc_error(scheduler.stub.CancelSession(cancel))
    assert refused.code() == grpc.StatusCode.FAILED_PRECONDITION and "notice" in (refused.details() or "")
    cancel.idempotency_key, cancel.override_notice = "c2", True
    assert (await scheduler.stub.CancelSession(cancel)).sessions[0].status == pb.SESSION_STATUS_CANCELLED
