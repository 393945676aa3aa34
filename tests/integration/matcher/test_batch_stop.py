"""Long batch runs: cancelling one, its caller going away or the server stopping stops
the solver within a second; RunBatchMatch never runs into the server's deadline."""

from __future__ import annotations

import asyncio
import signal
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TypeAlias

import grpc
import pytest

from alongside.api.matcher.v1 import matcher_pb2 as pb
from alongside.api.matcher.v1 import matcher_pb2_grpc
from alongside.kit.runtime import Runtime
from alongside.kit.testing.auth import AUTH_ENV, TEST_AUTH, channel
from alongside.kit.testing.processes import Child
from alongside.kit.testing.wait import eventually
from alongside.matcher.bootstrap import build
from alongside.matcher.service.batch import OUT_OF_TIME, Batch
from alongside.matcher.settings import MatcherSettings

from ..auth.test_audit import records
from .batch_load import SOLVER_STOP_S, children, cpu_seconds, gone_after, hard_batch
from .conftest import NOW, Matcher, start_matcher

# Solvers stopped within a second and answers within short deadlines: make test runs these alone (serial).
pytestmark = pytest.mark.serial

Progress: TypeAlias = "grpc.aio.UnaryStreamCall[pb.WatchBatchMatchRequest, pb.WatchBatchMatchResponse]"


def batch_of(runtime: Runtime) -> Batch:
    assert runtime.deps is not None
    found: Batch = next(t.__self__ for t in runtime.deps.tasks if isinstance(getattr(t, "__self__", None), Batch))  # type: ignore[attr-defined]
    return found


SOLVING = (pb.BATCH_PHASE_LAGRANGIAN, pb.BATCH_PHASE_CP_SAT)


async def until_phase(call: Progress, phase: int) -> list[pb.BatchProgress]:
    """Read the watch until ``phase`` (or an ending) arrives."""
    seen: list[pb.BatchProgress] = []
    while True:
        reply = await call.read()
        assert reply is not grpc.aio.EOF, [e.phase for e in seen]
        seen.append(reply.progress)
        if reply.progress.phase in (phase, pb.BATCH_PHASE_DONE, pb.BATCH_PHASE_FAILED, pb.BATCH_PHASE_CANCELLED):
            return seen


async def watched(m: Matcher, batch_id: str) -> list[pb.BatchProgress]:
    return [r.progress async for r in m.stub.WatchBatchMatch(pb.WatchBatchMatchRequest(batch_id=batch_id))]


async def rest(call: Progress) -> list[pb.BatchProgress]:
    return [reply.progress async for reply in call]


async def busy_solvers(batch: Batch, count: int = 1) -> list[int]:
    """The replica's solver processes once ``count`` of them are burning CPU."""

    async def burning() -> bool:
        pids = batch._solvers.pids()
        return len(pids) >= count and all(cpu_seconds(p) > 0.3 for p in pids)

    await eventually(burning, timeout=60, what="solver processes at work")
    return batch._solvers.pids()


async def test_cancel_from_another_replica_ends_the_batch_cancelled_and_stops_its_solver_within_a_second(
    matcher: Matcher, nats_url: str, redis_url: str
) -> None:
    tag = f"cx{uuid.uuid4().hex[:6]}"
    ids = await hard_batch(matcher.stub, tag)
    started = await matcher.stub.StartBatchMatch(
        pb.StartBatchMatchRequest(idempotency_key=tag, request_ids=ids, time_limit_seconds=120)
    )
    call = matcher.stub.WatchBatchMatch(pb.WatchBatchMatchRequest(batch_id=started.batch_id), timeout=120)
    # Cancelled while the solver works: in the Lagrangian phase (the knapsack
    # engine's, which comes first) or, if it got that far, in CP-SAT.
    before = await until_phase(call, pb.BATCH_PHASE_LAGRANGIAN)
    assert before[-1].phase == pb.BATCH_PHASE_LAGRANGIAN, before[-1]
    pids = await busy_solvers(batch_of(matcher.runtime))
    other = await start_matcher(nats_url, redis_url, matcher.namespace, lambda: NOW)
    try:
        async with channel(f"127.0.0.1:{other.port}", role="manager", subject="m-other") as chan:
            stub = matcher_pb2_grpc.MatcherServiceStub(chan)
            request = pb.CancelBatchMatchRequest(idempotency_key=f"{tag}-c", batch_id=started.batch_id)
            asked = time.monotonic()
            cancelled = await stub.CancelBatchMatch(request)
            stopped = await gone_after(pids)
            waited = time.monotonic() - asked
            assert cancelled.progress.phase in SOLVING  # still running when it was asked
            assert await stub.CancelBatchMatch(request) == cancelled  # replaying the key: the first answer
            after = await rest(call)
            assert after[-1].phase == pb.BATCH_PHASE_CANCELLED and "cancel" in after[-1].failure
            assert all(e.phase in SOLVING for e in after[:-1])
            again = await stub.CancelBatchMatch(
                pb.CancelBatchMatchRequest(idempotency_key=f"{tag}-c2", batch_id=started.batch_id)
            )
            assert again.progress.phase == pb.BATCH_PHASE_CANCELLED  # ended: nothing changes
            with pytest.raises(grpc.aio.AioRpcError) as confirm:
                await stub.ConfirmBatch(pb.ConfirmBatchRequest(idempotency_key=f"{tag}-k", batch_id=started.batch_id))
            assert confirm.value.code() == grpc.StatusCode.NOT_FOUND  # nothing was proposed
    finally:
        await other.stop()
    print(f"cancel -> solver gone: {waited:.3f} s (after the reply: {stopped:.3f} s)")
    assert waited <= SOLVER_STOP_S
    trail = await records(matcher.runtime, at_least=3, actor="m-other")
    assert len([r for r in trail if r.action.endswith("/CancelBatchMatch")]) >= 2  # audited, replay or not


async def test_cancelling_a_finished_or_unknown_batch(matcher: Matcher) -> None:
    tag = f"cf{uuid.uuid4().hex[:6]}"
    started = await matcher.stub.StartBatchMatch(pb.StartBatchMatchRequest(idempotency_key=tag))
    done = [
        r.progress async for r in matcher.stub.WatchBatchMatch(pb.WatchBatchMatchRequest(batch_id=started.batch_id))
    ]
    assert done[-1].phase == pb.BATCH_PHASE_DONE
    reply = await matcher.stub.CancelBatchMatch(
        pb.CancelBatchMatchRequest(idempotency_key=f"{tag}-c", batch_id=started.batch_id)
    )
    assert reply.progress.phase == pb.BATCH_PHASE_DONE
    after = [
        r.progress async for r in matcher.stub.WatchBatchMatch(pb.WatchBatchMatchRequest(batch_id=started.batch_id))
    ]
    assert [e.phase for e in after] == [e.phase for e in done]  # the result stands
    with pytest.raises(grpc.aio.AioRpcError) as unknown:
        await matcher.stub.CancelBatchMatch(pb.CancelBatchMatchRequest(idempotency_key=f"{tag}-u", batch_id="b-none"))
    assert unknown.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as bad:
        await matcher.stub.CancelBatchMatch(
            pb.CancelBatchMatchRequest(idempotency_key=f"{tag}-b", batch_id="not an id")
        )
    assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT and (bad.value.details() or "").startswith("batch_id")


@pytest.mark.parametrize("role", ["peer", "intake"])
async def test_only_managers_cancel_a_batch(matcher: Matcher, role: str) -> None:
    async with channel(f"127.0.0.1:{matcher.runtime.port}", role=role, subject="p-someone") as chan:
        stub = matcher_pb2_grpc.MatcherServiceStub(chan)
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await stub.CancelBatchMatch(pb.CancelBatchMatchRequest(idempotency_key="k", batch_id="b-any"))
        assert info.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_a_caller_leaving_run_batch_match_stops_its_solver_within_a_second(matcher: Matcher) -> None:
    tag = f"cl{uuid.uuid4().hex[:6]}"
    ids = await hard_batch(matcher.stub, tag)
    call = matcher.stub.RunBatchMatch(
        pb.RunBatchMatchRequest(idempotency_key=tag, request_ids=ids, time_limit_seconds=14), timeout=60
    )
    pids = await busy_solvers(batch_of(matcher.runtime))
    left = time.monotonic()
    call.cancel()
    await gone_after(pids)
    waited = time.monotonic() - left
    print(f"caller gone -> solver gone: {waited:.3f} s")
    assert waited <= SOLVER_STOP_S


async def test_run_batch_match_answers_within_a_short_client_deadline(matcher: Matcher) -> None:
    tag = f"cd{uuid.uuid4().hex[:6]}"
    ids = await hard_batch(matcher.stub, tag)
    asked = time.monotonic()
    reply = await matcher.stub.RunBatchMatch(
        pb.RunBatchMatchRequest(idempotency_key=tag, request_ids=ids, time_limit_seconds=14), timeout=5
    )
    took = time.monotonic() - asked
    print(f"RunBatchMatch, limit 14 s, client deadline 5 s: answered in {took:.2f} s")
    assert reply.run.proposals and took < 5


@pytest.fixture
async def short_deadline(nats_url: str, redis_url: str, namespace: str) -> AsyncIterator[Matcher]:
    """A matcher whose server deadline is 8 s (so RunBatchMatch takes a time limit of at most 4 s)."""
    settings = MatcherSettings.from_env(
        {}, **TEST_AUTH, nats_url=nats_url, redis_url=redis_url, namespace=namespace, default_deadline_seconds=8.0
    )
    runtime = build(settings, clock=lambda: NOW)
    await runtime.start()
    async with channel(f"127.0.0.1:{runtime.port}", role="admin") as chan:
        yield Matcher(runtime, matcher_pb2_grpc.MatcherServiceStub(chan), namespace)
    await runtime.stop()


async def test_run_batch_match_refuses_a_time_limit_it_could_not_answer_within_the_deadline(matcher: Matcher) -> None:
    # The reproducer asked for 40 s and heard DEADLINE_EXCEEDED after 30 s of work.
    asked = time.monotonic()
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await matcher.stub.RunBatchMatch(
            pb.RunBatchMatchRequest(idempotency_key="dl", time_limit_seconds=40), timeout=180
        )
    assert time.monotonic() - asked < 5
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    details = info.value.details() or ""
    assert details.startswith("time_limit_seconds: must be between 0 and 15") and "StartBatchMatch" in details, details
    # StartBatchMatch takes it.
    started = await matcher.stub.StartBatchMatch(pb.StartBatchMatchRequest(idempotency_key="dl", time_limit_seconds=40))
    assert started.batch_id


async def test_run_batch_match_at_its_largest_time_limit_answers_before_the_server_deadline(
    short_deadline: Matcher,
) -> None:
    stub = short_deadline.stub
    tag = f"sd{uuid.uuid4().hex[:6]}"
    ids = await hard_batch(stub, tag)
    for key, limit in ((f"{tag}-max", 4.0), (f"{tag}-default", 0.0)):  # the default (10 s) is capped too
        asked = time.monotonic()
        reply = await stub.RunBatchMatch(
            pb.RunBatchMatchRequest(idempotency_key=key, request_ids=ids, time_limit_seconds=limit), timeout=60
        )
        took = time.monotonic() - asked
        print(f"RunBatchMatch, limit {limit} s, server deadline 8 s: answered in {took:.2f} s")
        assert reply.run.proposals and took < 8
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.RunBatchMatch(pb.RunBatchMatchRequest(idempotency_key=f"{tag}-over", time_limit_seconds=4.5))
    assert (info.value.details() or "").startswith("time_limit_seconds: must be between 0 and 4 ")


def forkserver_children(pid: int) -> list[int]:
    """The solver processes of the matcher ``pid``: children of its fork server."""
    servers = [c for c in children(pid) if b"forkserver" in Path(f"/proc/{c}/cmdline").read_bytes()]
    return [s for server in servers for s in children(server)]


async def test_sigterm_stops_running_solves_within_a_second_and_reports_them(
    nats_url: str, redis_url: str, namespace: str
) -> None:
    env = {**AUTH_ENV, "NATS_URL": nats_url, "REDIS_URL": redis_url, "NAMESPACE": namespace}
    service = await asyncio.to_thread(Child, "alongside.matcher", env)
    try:
        async with channel(f"127.0.0.1:{service.port}", role="admin") as chan:
            stub = matcher_pb2_grpc.MatcherServiceStub(chan)
            tag = f"sg{uuid.uuid4().hex[:6]}"
            ids = await hard_batch(stub, tag)
            started = await stub.StartBatchMatch(
                pb.StartBatchMatchRequest(idempotency_key=tag, request_ids=ids, time_limit_seconds=120)
            )
            call = stub.RunBatchMatch(
                pb.RunBatchMatchRequest(idempotency_key=tag, request_ids=ids, time_limit_seconds=14), timeout=60
            )

            async def both_solving() -> bool:
                pids = forkserver_children(service.proc.pid)
                return len(pids) == 2 and all(cpu_seconds(p) > 0.3 for p in pids)

            await eventually(both_solving, timeout=60, what="the started batch and the run solving")
            pids = forkserver_children(service.proc.pid)
            signalled = time.monotonic()
            service.proc.send_signal(signal.SIGTERM)
            await gone_after(pids)
            waited = time.monotonic() - signalled
            with pytest.raises(grpc.aio.AioRpcError) as run:
                await call
            assert run.value.code() == grpc.StatusCode.UNAVAILABLE, run.value
            assert "run it again" in (run.value.details() or "")
        assert await asyncio.to_thread(service.proc.wait, 20) == 0
    finally:
        await asyncio.to_thread(service.close)
    print(f"SIGTERM -> both solvers gone: {waited:.3f} s")
    assert waited <= SOLVER_STOP_S
    other = await start_matcher(nats_url, redis_url, namespace, lambda: NOW)
    try:
        async with channel(f"127.0.0.1:{other.port}", role="manager", subject="m-other") as chan:
            stub = matcher_pb2_grpc.MatcherServiceStub(chan)
            watch = stub.WatchBatchMatch(pb.WatchBatchMatchRequest(batch_id=started.batch_id), timeout=30)
            events = [reply.progress async for reply in watch]
    finally:
        await other.stop()
    assert events[-1].phase == pb.BATCH_PHASE_FAILED and "stopped" in events[-1].failure


async def test_confirm_batch_stops_short_of_the_call_deadline_and_goes_on_when_asked_again(matcher: Matcher) -> None:
    tag = f"cb{uuid.uuid4().hex[:6]}"
    ids = await hard_batch(matcher.stub, tag)
    run = (
        await matcher.stub.RunBatchMatch(
            pb.RunBatchMatchRequest(idempotency_key=tag, request_ids=ids, time_limit_seconds=1)
        )
    ).run
    assert len(run.proposals) > 20
    asked = time.monotonic()
    first = await matcher.stub.ConfirmBatch(
        pb.ConfirmBatchRequest(idempotency_key=f"{tag}-c1", batch_id=run.batch_id), timeout=2.1
    )
    assert time.monotonic() - asked < 2.1  # answered, not DEADLINE_EXCEEDED
    assert first.failures and {f.reason for f in first.failures} == {OUT_OF_TIME}
    assert len(first.matches) + len(first.failures) == len(run.proposals)
    second = await matcher.stub.ConfirmBatch(
        pb.ConfirmBatchRequest(idempotency_key=f"{tag}-c2", batch_id=run.batch_id), timeout=60
    )
    assert not second.failures
    assert len(second.matches) == len(first.failures) and len(second.already_confirmed) == len(first.matches)


async def test_a_queued_batch_can_be_cancelled_before_it_solves(matcher: Matcher) -> None:
    tag = f"cq{uuid.uuid4().hex[:6]}"
    batch = batch_of(matcher.runtime)
    await batch._solving.acquire()  # another solve holds this replica's solver
    try:
        started = await matcher.stub.StartBatchMatch(pb.StartBatchMatchRequest(idempotency_key=tag))
        cancelled = await matcher.stub.CancelBatchMatch(
            pb.CancelBatchMatchRequest(idempotency_key=f"{tag}-c", batch_id=started.batch_id)
        )
        assert cancelled.progress.phase == pb.BATCH_PHASE_QUEUED
        events = await watched(matcher, started.batch_id)
    finally:
        batch._solving.release()
    assert [e.phase for e in events][-1] == pb.BATCH_PHASE_CANCELLED
    assert pb.BATCH_PHASE_LOADING not in [e.phase for e in events]
