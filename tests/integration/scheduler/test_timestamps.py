"""Timestamps outside protobuf's range, or with nanos outside 0..999,999,999,
are INVALID_ARGUMENT naming the field's path. ``nanos=-1`` was silently
folded into the second before; an instant past year 9999 still is refused."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from alongside.api.scheduler.v1 import scheduler_pb2 as pb

from .conftest import Scheduler, rpc_error, ts, utc

SLOT = utc(2027, 3, 2, 15)
LATER = utc(2027, 3, 9, 15)


def nanos(value: int, instant: Any = SLOT) -> Timestamp:
    stamp = ts(instant)
    stamp.nanos = value
    return stamp


CASES: list[tuple[str, str, Any]] = [
    (
        "BookSession",
        "start",
        pb.BookSessionRequest(idempotency_key="k1", peer_id="p1", participant_ref="r-1", start=nanos(-1)),
    ),
    (
        "BookSession",
        "recurrence.until",
        pb.BookSessionRequest(
            idempotency_key="k2",
            peer_id="p1",
            participant_ref="r-1",
            start=ts(SLOT),
            recurrence=pb.Recurrence(until=Timestamp(seconds=2_500_000_000_000)),
        ),
    ),
    (
        "AddTimeOff",
        "end",
        pb.AddTimeOffRequest(idempotency_key="k3", peer_id="p1", start=ts(SLOT), end=nanos(1_000_000_000, LATER)),
    ),
    ("FindSlots", "earliest", pb.FindSlotsRequest(peer_id="p1", session_type="intake", earliest=nanos(-7))),
    ("ListSessions", "start", pb.ListSessionsRequest(peer_id="p1", start=Timestamp(seconds=-(2**62)))),
    ("PlanWeek", "week_start", pb.PlanWeekRequest(idempotency_key="k4", week_start=nanos(-1))),
]


@pytest.mark.parametrize(("method", "field", "request_"), CASES, ids=[f"{m}-{f}" for m, f, _ in CASES])
async def test_out_of_range_timestamps_are_invalid_argument(
    scheduler: Scheduler, method: str, field: str, request_: Any
) -> None:
    await scheduler.peer("p1")
    error = await rpc_error(getattr(scheduler.stub, method)(request_))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, error.details()
    assert (error.details() or "").startswith(f"{field}:"), error.details()
    assert await scheduler.events() == []


async def test_a_fraction_of_a_second_still_books(scheduler: Scheduler) -> None:
    await scheduler.peer("p1")
    reply = await scheduler.book("frac", start=SLOT.replace(microsecond=250_000))
    assert reply.session.start.seconds == int(SLOT.timestamp())
