"""Invalid input: INVALID_ARGUMENT naming the field, and nothing stored or published."""

from __future__ import annotations

from typing import Any

import grpc

from alongside.api.scheduler.v1 import scheduler_pb2 as pb

from .conftest import Scheduler, rpc_error, ts, utc, window

SLOT = utc(2027, 3, 2, 15)


def booking(**changes: Any) -> pb.BookSessionRequest:
    base: dict[str, Any] = {"idempotency_key": "k", "peer_id": "p1", "participant_ref": "ref-1", "start": ts(SLOT)}
    base.update(changes)
    return pb.BookSessionRequest(**base)


CASES: list[tuple[str, str, Any]] = [
    ("past slot", "start", booking(start=ts(utc(2027, 2, 1, 15)))),
    ("unknown zone", "participant_time_zone", booking(participant_time_zone="Mars/Olympus")),
    ("zero duration", "duration_minutes", pb.FindSlotsRequest(peer_id="p1", duration_minutes=0)),
    ("negative duration", "duration_minutes", booking(duration_minutes=-5)),
    ("over eight hours", "duration_minutes", booking(duration_minutes=8 * 60 + 1)),
    ("unknown session type", "session_type", booking(session_type="therapy")),
    ("missing participant", "participant_ref", booking(participant_ref="")),
    ("bad recurrence", "recurrence.count", booking(recurrence=pb.Recurrence())),
    ("too many occurrences", "recurrence.count", booking(recurrence=pb.Recurrence(count=500))),
    (
        "end before start",
        "end",
        pb.AddTimeOffRequest(idempotency_key="k", peer_id="p1", start=ts(SLOT), end=ts(utc(2027, 3, 1, 15))),
    ),
    (
        "slots end before start",
        "horizon_end",
        pb.FindSlotsRequest(peer_id="p1", session_type="intake", earliest=ts(SLOT), horizon_end=ts(utc(2027, 3, 1))),
    ),
    (
        "unknown zone in slots",
        "participant_time_zone",
        pb.FindSlotsRequest(
            peer_id="p1",
            session_type="intake",
            participant_time_zone="Nowhere/Town",
            participant_availability=[window(1, 9, 12)],
        ),
    ),
    (
        "bad window",
        "participant_availability",
        booking(participant_time_zone="UTC", participant_availability=[window(1, 12, 9)]),
    ),
    ("malformed session id", "session_id", pb.CancelSessionRequest(idempotency_key="k", session_id="nope", reason=1)),
    (
        "missing reason",
        "reason",
        pb.CancelSessionRequest(idempotency_key="k", session_id="p1~s0", reason=pb.CANCEL_REASON_UNSPECIFIED),
    ),
    ("missing idempotency key", "idempotency_key", booking(idempotency_key="")),
    ("bad page token", "page_token", pb.ListSessionsRequest(peer_id="p1", page_token="!!")),
]

METHODS = {
    pb.BookSessionRequest: "BookSession",
    pb.FindSlotsRequest: "FindSlots",
    pb.AddTimeOffRequest: "AddTimeOff",
    pb.CancelSessionRequest: "CancelSession",
    pb.ListSessionsRequest: "ListSessions",
}


async def test_invalid_input_names_the_field_and_changes_nothing(scheduler: Scheduler) -> None:
    await scheduler.peer("p1")
    for case, field, request in CASES:
        method = getattr(scheduler.stub, METHODS[type(request)])
        error = await rpc_error(method(request))
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, case
        assert (error.details() or "").startswith(f"{field}:"), (case, error.details())
    listed = await scheduler.stub.ListSessions(pb.ListSessionsRequest(peer_id="p1"))
    assert not listed.sessions
    assert await scheduler.events() == []


async def test_unknown_session_is_not_found(scheduler: Scheduler) -> None:
    error = await rpc_error(scheduler.stub.GetSession(pb.GetSessionRequest(session_id="p1~s000")))
    assert error.code() == grpc.StatusCode.NOT_FOUND
    cancel = pb.CancelSessionRequest(idempotency_key="k", session_id="p1~s000", reason=pb.CANCEL_REASON_OTHER)
    assert (await rpc_error(scheduler.stub.CancelSession(cancel))).code() == grpc.StatusCode.NOT_FOUND
