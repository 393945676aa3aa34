"""Batch progress: StartBatchMatch answers at once, WatchBatchMatch streams the solve to its result."""

from __future__ import annotations

import uuid

import grpc
import pytest

from alongside.api.matcher.v1 import matcher_pb2 as pb
from alongside.api.matcher.v1 import matcher_pb2_grpc
from alongside.kit.testing.auth import channel
from alongside.kit.testing.wait import eventually

from .conftest import NOW, Matcher, intake, peer, start_matcher, upsert
from .test_erasure import Start, canaries, planted, redis_leaks, start

__all__ = ["start"]  # the erasure tests' fixture, used here too


async def submit(m: Matcher, key: str, **overrides: object) -> str:
    return (await m.stub.SubmitMatchRequest(intake(key, **overrides))).request.request_id


async def watch(m: Matcher, batch_id: str) -> list[pb.BatchProgress]:
    call = m.stub.WatchBatchMatch(pb.WatchBatchMatchRequest(batch_id=batch_id), timeout=60)
    return [reply.progress async for reply in call]


def unexplained(run: pb.BatchRun) -> pb.BatchRun:
    out = pb.BatchRun()
    out.CopyFrom(run)
    for p in out.proposals:
        del p.contributions[:]
    return out


def assert_in_order(events: list[pb.BatchProgress]) -> None:
    phases = [e.phase for e in events]
    assert phases[0] == pb.BATCH_PHASE_QUEUED
    assert phases == sorted(phases), phases  # phases only move forward
    elapsed = [e.elapsed_seconds for e in events]
    assert elapsed == sorted(elapsed)
    assert phases.count(pb.BATCH_PHASE_DONE) + phases.count(pb.BATCH_PHASE_FAILED) == 1


async def test_progress_arrives_in_order_and_ends_with_the_reviewable_result(matcher: Matcher) -> None:
    await upsert(matcher, peer("bp1", capacity=3, languages=["en", "es"]), peer("bp2", capacity=1))
    # bp1 already carries one participant: its load before the batch is 1.
    first = await submit(matcher, "bp-held")
    await matcher.stub.AcceptMatch(pb.AcceptMatchRequest(idempotency_key="bp-a", request_id=first, peer_id="bp1"))
    ids = [await submit(matcher, f"bp-{i}") for i in range(3)]
    started = await matcher.stub.StartBatchMatch(
        pb.StartBatchMatchRequest(idempotency_key="bp-start", request_ids=ids, time_limit_seconds=5)
    )
    assert started.batch_id
    events = await watch(matcher, started.batch_id)
    assert_in_order(events)
    phases = [e.phase for e in events]
    assert pb.BATCH_PHASE_LOADING in phases
    done = events[-1]
    assert done.phase == pb.BATCH_PHASE_DONE and done.requests == 3
    run = done.run
    assert run.batch_id == started.batch_id and run.solver_status == "OPTIMAL"
    assert len(run.proposals) == 3 and not run.unmatched_request_ids
    by_peer: dict[str, list[pb.Proposal]] = {}
    for p in run.proposals:
        by_peer.setdefault(p.peer_id, []).append(p)
        assert p.acuity == 1
        assert p.contributions and all(c.text for c in p.contributions)  # the shortlist's explanation
    assert {p.peer_load_before for p in by_peer["bp1"]} == {1}
    assert {p.peer_load_after for p in by_peer["bp1"]} == {1 + len(by_peer["bp1"])}
    assert {(p.peer_load_before, p.peer_load_after, p.peer_capacity) for p in by_peer["bp2"]} == {(0, 1, 1)}
    # The result was stored: confirming it works as for RunBatchMatch.
    confirmed = await matcher.stub.ConfirmBatch(
        pb.ConfirmBatchRequest(idempotency_key="bp-c", batch_id=started.batch_id)
    )
    assert len(confirmed.matches) == 3
    # Watching again replays the whole history, result included (explained again, against the roster now).
    again = await watch(matcher, started.batch_id)
    assert [e.phase for e in again] == phases
    assert unexplained(again[-1].run) == unexplained(run)
    assert all(p.contributions for p in again[-1].run.proposals)


async def test_mixed_acuity_goes_through_cp_sat_with_its_solutions(matcher: Matcher) -> None:
    await upsert(matcher, *(peer(f"cp{j}", capacity=3) for j in range(4)))
    ids = [await submit(matcher, f"cp-{i}", acuity=1 + i % 3) for i in range(8)]
    started = await matcher.stub.StartBatchMatch(
        pb.StartBatchMatchRequest(idempotency_key="cp-start", request_ids=ids, time_limit_seconds=2)
    )
    events = await watch(matcher, started.batch_id)
    assert_in_order(events)
    phases = [e.phase for e in events]
    assert pb.BATCH_PHASE_LAGRANGIAN in phases or pb.BATCH_PHASE_CP_SAT in phases
    assert pb.BATCH_PHASE_FLOW not in phases
    cp = [e for e in events if e.phase == pb.BATCH_PHASE_CP_SAT]
    assert cp and cp[-1].bound >= cp[-1].objective
    done = events[-1]
    assert done.phase == pb.BATCH_PHASE_DONE and done.run.engine.startswith("cpsat")
    loads: dict[str, int] = {}
    for p in done.run.proposals:
        loads[p.peer_id] = loads.get(p.peer_id, 0) + p.acuity
    for p in done.run.proposals:
        assert p.peer_load_before == 0 and p.peer_load_after == loads[p.peer_id] <= p.peer_capacity


async def test_replaying_the_key_returns_the_same_batch_and_solves_once(matcher: Matcher) -> None:
    await upsert(matcher, peer("rp1"))
    ids = [await submit(matcher, "rp-1")]
    request = pb.StartBatchMatchRequest(idempotency_key="rp-start", request_ids=ids)
    first = await matcher.stub.StartBatchMatch(request)
    second = await matcher.stub.StartBatchMatch(request)
    assert first.batch_id == second.batch_id
    events = await watch(matcher, first.batch_id)
    assert [e.phase for e in events].count(pb.BATCH_PHASE_QUEUED) == 1
    assert events[-1].phase == pb.BATCH_PHASE_DONE


async def test_a_request_that_is_gone_ends_the_batch_failed_naming_it(matcher: Matcher) -> None:
    started = await matcher.stub.StartBatchMatch(
        pb.StartBatchMatchRequest(idempotency_key="gone", request_ids=["r-doesnotexist"])
    )
    events = await watch(matcher, started.batch_id)
    assert_in_order(events)
    assert events[-1].phase == pb.BATCH_PHASE_FAILED
    assert events[-1].failure.startswith("request_ids[0]")


async def test_a_batch_run_in_one_call_is_watched_as_its_result(matcher: Matcher) -> None:
    await upsert(matcher, peer("one1"))
    ids = [await submit(matcher, "one-1")]
    run = (await matcher.stub.RunBatchMatch(pb.RunBatchMatchRequest(idempotency_key="one", request_ids=ids))).run
    assert run.proposals[0].contributions and run.proposals[0].peer_load_after == 1
    events = await watch(matcher, run.batch_id)
    assert [e.phase for e in events] == [pb.BATCH_PHASE_DONE] and events[0].run == run  # nothing changed since


@pytest.mark.parametrize("role", ["peer", "intake"])
async def test_only_managers_start_or_watch_a_batch(matcher: Matcher, role: str) -> None:
    async with channel(f"127.0.0.1:{matcher.runtime.port}", role=role, subject="p-someone") as chan:
        stub = matcher_pb2_grpc.MatcherServiceStub(chan)
        with pytest.raises(grpc.aio.AioRpcError) as start:
            await stub.StartBatchMatch(pb.StartBatchMatchRequest(idempotency_key="k"))
        assert start.value.code() == grpc.StatusCode.PERMISSION_DENIED
        with pytest.raises(grpc.aio.AioRpcError) as watched:
            async for _ in stub.WatchBatchMatch(pb.WatchBatchMatchRequest(batch_id="b-anything")):
                pass
        assert watched.value.code() == grpc.StatusCode.PERMISSION_DENIED


@pytest.mark.parametrize(
    ("field", "bad"),
    [
        ("idempotency_key", pb.StartBatchMatchRequest()),
        ("time_limit_seconds", pb.StartBatchMatchRequest(idempotency_key="k", time_limit_seconds=301)),
        (
            "policy.youth_cap_per_peer",
            pb.StartBatchMatchRequest(idempotency_key="k", policy={"youth_cap_per_peer": -1}),
        ),
        ("policy.fairness", pb.StartBatchMatchRequest(idempotency_key="k", policy={"fairness": 9})),
        ("request_ids[1]", pb.StartBatchMatchRequest(idempotency_key="k", request_ids=["r-ok", "not an id"])),
    ],
)
async def test_bad_starts_name_the_field(matcher: Matcher, field: str, bad: pb.StartBatchMatchRequest) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await matcher.stub.StartBatchMatch(bad)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert (info.value.details() or "").startswith(field)


async def test_watching_a_malformed_or_unknown_batch(matcher: Matcher) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as bad:
        await watch(matcher, "no such id!")
    assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert (bad.value.details() or "").startswith("batch_id")
    with pytest.raises(grpc.aio.AioRpcError) as unknown:
        await watch(matcher, "b-unknown")
    assert unknown.value.code() == grpc.StatusCode.NOT_FOUND


async def test_an_erased_participant_leaves_no_explanation_behind_in_batches(
    start: Start, redis_admin_url: str
) -> None:
    m = await start(erasure_on_request=True)
    tag = uuid.uuid4().hex[:8]
    c = canaries(tag)
    await m.stub.UpsertPeer(pb.UpsertPeerRequest(idempotency_key="up", peer=peer("p1", cultures=[c["culture"]])))
    request_id = (await m.stub.SubmitMatchRequest(planted(f"bq{tag}", c))).request.request_id
    run = (await m.stub.RunBatchMatch(pb.RunBatchMatchRequest(idempotency_key=f"r{tag}", request_ids=[request_id]))).run
    started = await m.stub.StartBatchMatch(
        pb.StartBatchMatchRequest(idempotency_key=f"s{tag}", request_ids=[request_id])
    )
    watched = [r.progress async for r in m.stub.WatchBatchMatch(pb.WatchBatchMatchRequest(batch_id=started.batch_id))]
    for proposal in (run.proposals[0], watched[-1].run.proposals[0]):
        assert any(c["culture"] in x.text for x in proposal.contributions)  # the explanation names the wish
    erasure = (
        await m.stub.EraseParticipant(pb.EraseParticipantRequest(idempotency_key=f"e{tag}", participant_ref=c["ref"]))
    ).erasure

    async def matcher_confirmed() -> bool:
        got = (await m.stub.GetErasure(pb.GetErasureRequest(erasure_id=erasure.erasure_id))).erasure
        return "matcher" in [x.service for x in got.confirmations]

    await eventually(matcher_confirmed, what="the matcher's own confirmation")
    left = await redis_leaks(redis_admin_url, m.namespace, list(c.values()))
    # The peer's own record (and its upsert's reply) holds the culture they share; nothing else may.
    assert [x for x in left if ":peer:p1:" not in x and ":idem:UpsertPeer:" not in x] == [], left
    after = [r.progress async for r in m.stub.WatchBatchMatch(pb.WatchBatchMatchRequest(batch_id=started.batch_id))]
    kept = after[-1].run.proposals[0]
    assert kept.request_id == request_id and kept.peer_load_after == 1 and not kept.contributions


async def test_another_replica_serves_the_watch(matcher: Matcher, nats_url: str, redis_url: str) -> None:
    await upsert(matcher, peer("xr1"))
    ids = [await submit(matcher, "xr-1")]
    started = await matcher.stub.StartBatchMatch(pb.StartBatchMatchRequest(idempotency_key="xr", request_ids=ids))
    other = await start_matcher(nats_url, redis_url, matcher.namespace, lambda: NOW)
    try:
        async with channel(f"127.0.0.1:{other.port}", role="manager", subject="m-other") as chan:
            stub = matcher_pb2_grpc.MatcherServiceStub(chan)
            call = stub.WatchBatchMatch(pb.WatchBatchMatchRequest(batch_id=started.batch_id), timeout=60)
            events = [reply.progress async for reply in call]
    finally:
        await other.stop()
    assert_in_order(events)
    assert events[-1].phase == pb.BATCH_PHASE_DONE and events[-1].run.proposals[0].peer_id == "xr1"


async def test_a_queued_batch_beats_and_ends_failed_when_its_replica_stops(
    matcher: Matcher, nats_url: str, redis_url: str
) -> None:
    await upsert(matcher, peer("st1"))
    ids = [await submit(matcher, "st-1")]
    deps = matcher.runtime.deps
    assert deps is not None
    batch = next(t.__self__ for t in deps.tasks if type(getattr(t, "__self__", None)).__name__ == "Batch")  # type: ignore[attr-defined]
    await batch._solving.acquire()  # another solve holds this replica's solver
    started = await matcher.stub.StartBatchMatch(pb.StartBatchMatchRequest(idempotency_key="st", request_ids=ids))
    call = matcher.stub.WatchBatchMatch(pb.WatchBatchMatchRequest(batch_id=started.batch_id), timeout=30)
    beats = [(await call.read()).progress for _ in range(3)]  # type: ignore[union-attr]
    call.cancel()
    assert [b.phase for b in beats] == [pb.BATCH_PHASE_QUEUED] * 3
    assert beats[2].elapsed_seconds > beats[1].elapsed_seconds > 0  # alive while it waits
    await matcher.runtime.stop()
    other = await start_matcher(nats_url, redis_url, matcher.namespace, lambda: NOW)
    try:
        async with channel(f"127.0.0.1:{other.port}", role="manager", subject="m-other") as chan:
            stub = matcher_pb2_grpc.MatcherServiceStub(chan)
            call = stub.WatchBatchMatch(pb.WatchBatchMatchRequest(batch_id=started.batch_id), timeout=30)
            events = [reply.progress async for reply in call]
    finally:
        await other.stop()
    assert_in_order(events)
    assert events[-1].phase == pb.BATCH_PHASE_FAILED and "stopped" in events[-1].failure
