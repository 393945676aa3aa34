"""PlanWeek: unscheduled first sessions placed with CP-SAT, optionally booked."""

from __future__ import annotations

import grpc
import pytest

from alongside.api.matcher.v1 import events_pb2 as matcher_ev
from alongside.api.scheduler.v1 import scheduler_pb2 as pb
from alongside.kit.testing.wait import eventually

from .conftest import Scheduler, ts, utc, window

WEEK = utc(2027, 3, 8)


def item(match_id: str, urgency: int = pb.URGENCY_ROUTINE) -> pb.PlanItem:
    return pb.PlanItem(
        match_id=match_id,
        peer_id="p1",
        participant_ref=f"ref-{match_id}",
        urgency=urgency,  # type: ignore[arg-type]
        participant_time_zone="America/New_York",
        participant_availability=[window(d, 9, 17) for d in range(1, 6)],
    )


async def test_plan_proposes_then_commits(scheduler: Scheduler) -> None:
    await scheduler.peer("p1", "America/New_York", [window(d, 9, 12) for d in range(1, 6)])
    items = [item("m1"), item("m2"), item("m3", pb.URGENCY_URGENT)]
    proposal = await scheduler.stub.PlanWeek(pb.PlanWeekRequest(week_start=ts(WEEK), items=items))
    assert {p.match_id for p in proposal.placements} == {"m1", "m2", "m3"}
    assert proposal.solver_status == "OPTIMAL" and proposal.gap == 0.0
    assert proposal.bound >= proposal.objective > 0
    urgent = next(p for p in proposal.placements if p.match_id == "m3")
    assert urgent.start == ts(utc(2027, 3, 8, 14))  # Monday 09:00 in New York: the first minute of the week
    assert not (await scheduler.stub.ListSessions(pb.ListSessionsRequest(peer_id="p1"))).sessions

    request = pb.PlanWeekRequest(idempotency_key="plan-1", week_start=ts(WEEK), items=items, commit=True)
    committed = await scheduler.stub.PlanWeek(request)
    assert all(p.session_id for p in committed.placements) and len(committed.placements) == 3
    listed = await scheduler.stub.ListSessions(pb.ListSessionsRequest(peer_id="p1"))
    assert {s.match_id for s in listed.sessions} == {"m1", "m2", "m3"}
    assert await scheduler.stub.PlanWeek(request) == committed


async def test_unschedulable_matches_wait_for_the_planner(scheduler: Scheduler) -> None:
    await scheduler.peer("p1", "America/New_York", [window(1, 9, 10)])
    accepted = matcher_ev.MatchAccepted(
        match_id="m9",
        peer_id="p1",
        participant_ref="ref-9",
        participant_time_zone="America/New_York",
        participant_availability=[window(3, 9, 10)],
    )
    await scheduler.publish("match.accepted", accepted)

    async def waiting() -> bool:
        return any(e.type == "session.unschedulable" for e in await scheduler.events())

    await eventually(waiting, what="unschedulable")
    reply = await scheduler.stub.PlanWeek(pb.PlanWeekRequest(week_start=ts(WEEK)))
    (unplaced,) = reply.unplaced
    assert unplaced.match_id == "m9" and "never overlap" in unplaced.reason


async def test_a_time_limit_the_call_could_not_answer_within_is_refused_at_once(scheduler: Scheduler) -> None:
    # The server's deadline is 30 s; the planner used to take up to 60 and be cut off at 30.
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await scheduler.stub.PlanWeek(pb.PlanWeekRequest(week_start=ts(WEEK), time_limit_seconds=40), timeout=5)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert (info.value.details() or "").startswith("time_limit_seconds: must be more than 0 and at most 15")
