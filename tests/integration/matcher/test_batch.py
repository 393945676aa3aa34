"""Batch matching: proposals for staff review, then confirmation."""

from __future__ import annotations

import grpc
import pytest

from alongside.api.matcher.v1 import matcher_pb2 as pb

from .conftest import Matcher, intake, peer, upsert


async def submit(m: Matcher, key: str, urgency: int) -> str:
    return (await m.stub.SubmitMatchRequest(intake(key, urgency=urgency))).request.request_id


async def test_batch_proposes_urgent_first_and_confirm_accepts(matcher: Matcher) -> None:
    await upsert(matcher, peer("p1", capacity=1), peer("p2", capacity=1))
    routine_a = await submit(matcher, "ra", pb.URGENCY_ROUTINE)
    urgent = await submit(matcher, "u", pb.URGENCY_URGENT)
    routine_b = await submit(matcher, "rb", pb.URGENCY_ROUTINE)
    run = (
        await matcher.stub.RunBatchMatch(
            pb.RunBatchMatchRequest(
                idempotency_key="b1", request_ids=[routine_a, urgent, routine_b], time_limit_seconds=5
            )
        )
    ).run
    proposed = {p.request_id: p.peer_id for p in run.proposals}
    assert len(proposed) == 2 and urgent in proposed
    assert len(set(proposed.values())) == 2  # capacity 1 each
    assert len(run.unmatched_request_ids) == 1
    assert run.solver_status == "OPTIMAL" and run.gap == pytest.approx(0.0)
    # Proposals change nothing until staff confirm.
    assert (await matcher.stub.GetPeer(pb.GetPeerRequest(peer_id="p1"))).peer.load == 0
    confirmed = await matcher.stub.ConfirmBatch(pb.ConfirmBatchRequest(idempotency_key="c1", batch_id=run.batch_id))
    assert {m.request_id: m.peer_id for m in confirmed.matches} == proposed
    assert not confirmed.failures
    again = await matcher.stub.ConfirmBatch(pb.ConfirmBatchRequest(idempotency_key="c1", batch_id=run.batch_id))
    assert again.matches == confirmed.matches
    accepted = [e for e in await matcher.events("match") if e.type == "match.accepted"]
    assert len(accepted) == 2
    loads = [(await matcher.stub.GetPeer(pb.GetPeerRequest(peer_id=p))).peer.load for p in ("p1", "p2")]
    assert loads == [1, 1]


async def test_confirming_after_capacity_went_elsewhere_reports_a_failure(matcher: Matcher) -> None:
    await upsert(matcher, peer("p1", capacity=1))
    first = await submit(matcher, "a", pb.URGENCY_ROUTINE)
    second = await submit(matcher, "b", pb.URGENCY_ROUTINE)
    run = (await matcher.stub.RunBatchMatch(pb.RunBatchMatchRequest(idempotency_key="b", request_ids=[first]))).run
    assert [p.request_id for p in run.proposals] == [first]
    await matcher.stub.AcceptMatch(pb.AcceptMatchRequest(idempotency_key="x", request_id=second, peer_id="p1"))
    confirmed = await matcher.stub.ConfirmBatch(pb.ConfirmBatchRequest(idempotency_key="c", batch_id=run.batch_id))
    assert not confirmed.matches
    assert [f.request_id for f in confirmed.failures] == [first]
    assert "capacity" in confirmed.failures[0].reason.lower()
    assert (await matcher.stub.GetPeer(pb.GetPeerRequest(peer_id="p1"))).peer.load == 1


async def test_batch_over_the_waiting_list_by_default(matcher: Matcher) -> None:
    await upsert(matcher, peer("p1", capacity=0))
    waiting = [await submit(matcher, f"w{i}", pb.URGENCY_ROUTINE) for i in range(3)]
    run = (await matcher.stub.RunBatchMatch(pb.RunBatchMatchRequest(idempotency_key="b"))).run
    assert sorted(run.unmatched_request_ids) == sorted(waiting)
    assert not run.proposals


@pytest.mark.parametrize(
    ("field", "bad"),
    [
        ("time_limit_seconds", pb.RunBatchMatchRequest(idempotency_key="k", time_limit_seconds=-1)),
        # NaN passed the range check and left the solver without a time limit.
        ("time_limit_seconds", pb.RunBatchMatchRequest(idempotency_key="k", time_limit_seconds=float("nan"))),
        (
            "policy.intake_cap_per_peer",
            pb.RunBatchMatchRequest(idempotency_key="k", policy=pb.BatchPolicy(intake_cap_per_peer=-2)),
        ),
        ("policy.fairness", pb.RunBatchMatchRequest(idempotency_key="k", policy=pb.BatchPolicy(fairness=9))),
        ("idempotency_key", pb.RunBatchMatchRequest()),
    ],
)
async def test_bad_batch_requests_name_the_field(matcher: Matcher, field: str, bad: pb.RunBatchMatchRequest) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await matcher.stub.RunBatchMatch(bad)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert (info.value.details() or "").startswith(field)


async def test_unknown_batch_is_not_found(matcher: Matcher) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await matcher.stub.ConfirmBatch(pb.ConfirmBatchRequest(idempotency_key="k", batch_id="b-none"))
    assert info.value.code() == grpc.StatusCode.NOT_FOUND
