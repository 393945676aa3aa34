"""Batch matching over the waiting list (or given requests).

The solver core is a pure function over arrays; this use case builds its
input from the live roster (feasibility and fit from the online engine,
priority from urgency and time waited, free capacity from current loads),
runs it off the event loop (matrices, solve and explanations in a thread),
and stores the result as a proposal: each pair with the shortlist's
explanation and the peer's load before and after. Staff confirm proposals,
each through the same atomic accept as an intake.

``run`` answers when the solve ends; ``start`` answers at once with the
batch id and solves in a background task of this replica, whose progress
(``batch_progress.py``) any replica's ``watch`` reads from Redis.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import numpy as np
import structlog

from alongside.api.matcher.v1 import matcher_pb2 as pb
from alongside.kit import tracing
from alongside.kit.errors import Aborted, FailedPrecondition, InvalidArgument, NotFound
from alongside.kit.ids import check_id, new_id
from alongside.kit.uow import Tx
from alongside.matcher.adapters.roster_cache import Snapshot
from alongside.matcher.domain.explain_pair import explain_pair
from alongside.matcher.domain.model import AgeBand, MatchRequest
from alongside.matcher.domain.pair_matrices import pair_matrices
from alongside.matcher.domain.results import Contribution
from alongside.matcher.domain.solver import BatchProblem, Report, SideConstraints, solve
from alongside.matcher.domain.solver.progress import silent
from alongside.matcher.mappers import request_in
from alongside.matcher.service.batch_progress import Pump
from alongside.matcher.service.context import Context, idem, parse_reply
from alongside.matcher.service.intake import OPEN, Intake

MAX_BATCH = 10_000
MAX_TIME_LIMIT_S = 300.0
URGENCY_RANK = {pb.URGENCY_ROUTINE: 0.0, pb.URGENCY_PRIORITY: 1.0, pb.URGENCY_URGENT: 2.0}
YOUNG = (AgeBand.CHILD, AgeBand.YOUTH)
# One solve at a time per replica: it takes the cores it is given.
SOLVES_AT_ONCE = 1
# A watch waits this long per Redis read, and gives up on a batch silent for STALL_S
# (a running batch writes a heartbeat every half second; its replica may have died).
WATCH_BLOCK_MS = 1000
STALL_S = 30.0
DONE = (pb.BATCH_PHASE_DONE, pb.BATCH_PHASE_FAILED)
STOPPED = "the matcher stopped before the batch finished; run it again"
log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Job:
    batch_id: str
    ids: list[str]
    explicit: bool
    policy: pb.BatchPolicy
    limit: float
    started: float


class Batch:
    def __init__(self, ctx: Context, intake: Intake) -> None:
        self.ctx, self.intake = ctx, intake
        self._solving = asyncio.Semaphore(SOLVES_AT_ONCE)
        self._jobs: set[asyncio.Task[None]] = set()
        self._stopping = asyncio.Event()

    async def run(self, req: pb.RunBatchMatchRequest) -> pb.RunBatchMatchResponse:
        key = idem("RunBatchMatch", req.idempotency_key, req)
        limit, ids = await self._checked(req)
        states, domains = await self._load(ids, explicit=bool(req.request_ids))
        run = await self._solve(new_id("b"), states, domains, req.policy, limit)

        async def body(tx: Tx) -> bytes:
            tx.begin()
            self.ctx.store.put_batch(tx.pipe, _unexplained(run))
            return pb.RunBatchMatchResponse(run=run).SerializeToString()

        return parse_reply(pb.RunBatchMatchResponse, await self.ctx.uow.run(body, idempotency=key))

    async def _checked(self, req: pb.RunBatchMatchRequest | pb.StartBatchMatchRequest) -> tuple[float, list[str]]:
        """The time limit and the request ids, once the request is known to be well formed."""
        limit = _time_limit(req.time_limit_seconds, self.ctx.settings.batch_time_limit_seconds)
        _check_policy(req.policy)
        if len(req.request_ids) > MAX_BATCH:
            raise InvalidArgument("request_ids", f"must hold at most {MAX_BATCH} ids")
        for i, request_id in enumerate(req.request_ids):
            check_id(f"request_ids[{i}]", request_id)
        return limit, list(req.request_ids) or await self.ctx.store.waitlist(0, MAX_BATCH)

    async def start(self, req: pb.StartBatchMatchRequest) -> pb.StartBatchMatchResponse:
        """Accept a batch and answer with its id; the solve runs in the background."""
        key = idem("StartBatchMatch", req.idempotency_key, req)
        limit, ids = await self._checked(req)
        made: list[str] = []

        async def body(tx: Tx) -> bytes:
            batch_id = new_id("b")
            made.append(batch_id)
            tx.begin()
            self.ctx.store.put_progress(tx.pipe, pb.BatchProgress(batch_id=batch_id, phase=pb.BATCH_PHASE_QUEUED))
            return pb.StartBatchMatchResponse(batch_id=batch_id).SerializeToString()

        reply = parse_reply(pb.StartBatchMatchResponse, await self.ctx.uow.run(body, idempotency=key))
        if made and reply.batch_id == made[-1]:  # not a replay: this call started it
            job = Job(reply.batch_id, ids, bool(req.request_ids), req.policy, limit, time.monotonic())
            task = asyncio.create_task(self._background(job))
            self._jobs.add(task)
            task.add_done_callback(self._jobs.discard)
        return reply

    async def _background(self, job: Job) -> None:
        pump = Pump(job.batch_id, job.started, self._publish)
        pumping = asyncio.create_task(pump.run())
        try:
            async with self._solving:
                pump.phase(pb.BATCH_PHASE_LOADING)
                states, domains = await self._load(job.ids, explicit=job.explicit)
                pump.phase(pb.BATCH_PHASE_LOADING, requests=len(states))
                run = await self._solve(job.batch_id, states, domains, job.policy, job.limit, pump.report)
            await pump.finish(pumping)
            await self._finished(run, pump.current, pump.elapsed())
        except (InvalidArgument, NotFound, FailedPrecondition) as exc:
            await self._failed(pump, pumping, exc.message)
        except asyncio.CancelledError:
            await self._failed(pump, pumping, STOPPED)
            raise
        except Exception as exc:  # noqa: BLE001 - the watcher must hear that it ended
            log.error("batch.failed", batch_id=job.batch_id, error=type(exc).__name__)
            await self._failed(pump, pumping, "the batch failed; see the matcher's log")

    async def _publish(self, event: pb.BatchProgress) -> None:
        async with self.ctx.store.r.pipeline(transaction=True) as pipe:
            self.ctx.store.put_progress(pipe, event)
            await pipe.execute()

    async def _finished(self, run: pb.BatchRun, last: pb.BatchProgress, elapsed: float) -> None:
        done = pb.BatchProgress(
            batch_id=run.batch_id,
            phase=pb.BATCH_PHASE_DONE,
            elapsed_seconds=elapsed,
            requests=last.requests,
            solutions=last.solutions,
            objective=run.objective,
            bound=run.bound,
            gap=run.gap,
        )

        async def body(tx: Tx) -> bytes:
            tx.begin()
            self.ctx.store.put_batch(tx.pipe, _unexplained(run))
            self.ctx.store.put_progress(tx.pipe, done)
            return b""

        await self.ctx.uow.run(body)

    async def _failed(self, pump: Pump, pumping: asyncio.Task[None], why: str) -> None:
        await pump.abandon(pumping)  # nothing of the pump's may land after FAILED
        failed = pb.BatchProgress()
        failed.CopyFrom(pump.current)
        failed.phase, failed.failure, failed.elapsed_seconds = pb.BATCH_PHASE_FAILED, why, pump.elapsed()
        try:
            await asyncio.shield(self._publish(failed))
        except Exception as exc:  # noqa: BLE001 - Redis gone: watches end on their stall timeout
            log.warning("batch.failure_not_recorded", batch_id=failed.batch_id, error=type(exc).__name__)

    async def watch(self, batch_id: str) -> AsyncIterator[pb.BatchProgress]:
        """Every progress event of the batch so far, then new ones, ending with DONE (with the run) or FAILED."""
        check_id("batch_id", batch_id)
        if not await self.ctx.store.has_progress(batch_id):
            run = await self.ctx.store.batch(batch_id)
            if run is None:
                raise NotFound("batch_id: no such batch")
            yield _done(await self._explained(run))  # run by RunBatchMatch, or its progress has expired
            return
        cursor, heard = "0-0", time.monotonic()
        while not self._stopping.is_set():
            events = await self.ctx.store.progress_after(batch_id, cursor, WATCH_BLOCK_MS)
            if events:
                heard = time.monotonic()
            elif time.monotonic() - heard > STALL_S:
                yield pb.BatchProgress(batch_id=batch_id, phase=pb.BATCH_PHASE_FAILED, failure=STOPPED)
                return
            for entry, event in events:
                cursor = entry
                if event.phase == pb.BATCH_PHASE_DONE:
                    run = await self.ctx.store.batch(batch_id)
                    if run is not None:
                        event.run.CopyFrom(await self._explained(run))
                yield event
                if event.phase in DONE:
                    return

    async def _explained(self, run: pb.BatchRun) -> pb.BatchRun:
        """A stored run with each proposal's explanation, worked out now against the live roster.

        Runs are kept without explanations: they would carry the participant's
        wishes past an erasure. An erased or unknown request gets none.
        """
        wanted: list[tuple[pb.Proposal, MatchRequest, frozenset[str]]] = []
        for proposal in run.proposals:
            found = await self.ctx.store.request(proposal.request_id)
            if found is not None:
                submitted, state = found
                declined = frozenset(state.declined_peer_ids)
                wanted.append((proposal, request_in(proposal.request_id, submitted), declined))
        snap = await self.ctx.cache.current()
        now = self.ctx.clock()

        def explain_all() -> None:
            for proposal, request, declined in wanted:
                position = snap.index.positions.get(proposal.peer_id)
                if position is not None:
                    why = explain_pair(
                        snap.index,
                        request,
                        position,
                        weights=self.ctx.weights,
                        now=now,
                        declined=declined,
                        loads=snap.loads,
                        policy=self.ctx.policy,
                    )
                    _fill(proposal, why)

        await asyncio.to_thread(explain_all)
        return run

    async def stop_on(self, stop: asyncio.Event) -> None:
        """A runtime task: when the service stops, end watches and running batches (reported FAILED)."""
        await stop.wait()
        self._stopping.set()
        for task in list(self._jobs):
            task.cancel()
        await asyncio.gather(*self._jobs, return_exceptions=True)

    async def _load(self, ids: list[str], explicit: bool) -> tuple[list[pb.MatchRequest], list[MatchRequest]]:
        states, domains = [], []
        for i, request_id in enumerate(ids):
            found = await self.ctx.store.request(request_id)
            if found is None:
                if explicit:
                    raise NotFound(f"request_ids[{i}]: match request not found")
                continue
            submitted, state = found
            if state.status not in OPEN:
                if explicit:
                    raise FailedPrecondition(f"request_ids[{i}]: the match request is no longer open")
                continue
            states.append(state)
            domains.append(request_in(request_id, submitted))
        return states, domains

    async def _solve(
        self,
        batch_id: str,
        states: list[pb.MatchRequest],
        domains: list[MatchRequest],
        policy: pb.BatchPolicy,
        limit: float,
        report: Report = silent,
    ) -> pb.BatchRun:
        if not states:
            return pb.BatchRun(batch_id=batch_id, solver_status="EMPTY")
        snap = await self.ctx.cache.current()
        with tracing.solver("batch", len(states)) as span:
            run = await asyncio.to_thread(self._compute, batch_id, snap, states, domains, policy, limit, report)
            tracing.solved(span, run.solver_status, run.gap, run.seconds)
        return run

    def _compute(
        self,
        batch_id: str,
        snap: Snapshot,
        states: list[pb.MatchRequest],
        domains: list[MatchRequest],
        policy: pb.BatchPolicy,
        limit: float,
        report: Report,
    ) -> pb.BatchRun:
        """Matrices, solve and explanations: CPU work, run in a thread."""
        run = pb.BatchRun(batch_id=batch_id)
        now = self.ctx.clock()
        declined = {s.request_id: frozenset(s.declined_peer_ids) for s in states}
        programme = self.ctx.policy
        pm = pair_matrices(
            snap.index, domains, weights=self.ctx.weights, now=now, declined=declined, loads=snap.loads,
            policy=programme,
        )
        waited_weeks = [(now - s.created_at.ToDatetime(tzinfo=now.tzinfo)).days / 7 for s in states]
        priority = programme.batch.priority([URGENCY_RANK.get(s.urgency, 0.0) for s in states], waited_weeks)
        m = len(snap.index)
        side = SideConstraints(
            intake_cap=np.full(m, policy.intake_cap_per_peer, np.int64) if policy.intake_cap_per_peer else None,
            category=np.array([d.participant.age_band in YOUNG for d in domains])
            if policy.youth_cap_per_peer
            else None,
            category_cap=np.full(m, policy.youth_cap_per_peer, np.int64) if policy.youth_cap_per_peer else None,
            fairness="minmax" if policy.fairness == pb.FAIRNESS_MINMAX else "none",
        )
        problem = BatchProblem(
            profit=np.where(pm.feasible, pm.fit + priority[:, None], 0.0),
            feasible=pm.feasible,
            load=np.array([d.acuity for d in domains], np.int64),
            capacity=np.maximum(snap.index.capacity - snap.loads, 0).astype(np.int64),
            unmatched_penalty=priority.astype(np.float64),
            side=side,
        )
        result = solve(problem, time_limit_s=limit, report=report)
        assignment = result.assignment.tolist()
        after = snap.loads.astype(np.int64).copy()
        for i, j in enumerate(assignment):
            if j >= 0:
                after[j] += problem.load[i]
        for i, j in enumerate(assignment):
            if j < 0:
                run.unmatched_request_ids.append(pm.request_ids[i])
                continue
            proposal = run.proposals.add(
                request_id=pm.request_ids[i],
                peer_id=pm.peer_ids[j],
                score=round(pm.fit[i, j], 4),
                acuity=int(problem.load[i]),
                peer_load_before=int(snap.loads[j]),
                peer_load_after=int(after[j]),
                peer_capacity=int(snap.index.capacity[j]),
            )
            why = explain_pair(
                snap.index,
                domains[i],
                j,
                weights=self.ctx.weights,
                now=now,
                declined=declined[pm.request_ids[i]],
                loads=snap.loads,
                policy=programme,
            )
            _fill(proposal, why)
        run.objective, run.bound, run.gap = result.objective, result.bound, result.gap
        run.solver_status, run.engine, run.seconds = result.status, result.engine, result.seconds
        run.policy_digest = programme.digest
        return run

    async def confirm(self, req: pb.ConfirmBatchRequest) -> pb.ConfirmBatchResponse:
        if not req.idempotency_key:
            raise InvalidArgument("idempotency_key", "is required, at most 128 characters")
        run = await self.ctx.store.batch(check_id("batch_id", req.batch_id))
        if run is None:
            raise NotFound("batch not found")
        proposals = {p.request_id: p for p in run.proposals}
        for i, request_id in enumerate(req.request_ids):
            if request_id not in proposals:
                raise InvalidArgument(f"request_ids[{i}]", "is not a proposal of this batch")
        chosen = [proposals[r] for r in req.request_ids] if req.request_ids else list(run.proposals)
        reply = pb.ConfirmBatchResponse()
        for proposal in chosen:
            accept = pb.AcceptMatchRequest(
                idempotency_key=f"{req.idempotency_key}:{proposal.request_id}"[:128],
                request_id=proposal.request_id,
                peer_id=proposal.peer_id,
            )
            try:
                reply.matches.append((await self.intake.accept(accept)).match)
            except (FailedPrecondition, NotFound, Aborted) as exc:
                earlier = await self._matched_to(proposal) if isinstance(exc, FailedPrecondition) else None
                if earlier is not None:
                    reply.already_confirmed.append(earlier)
                else:
                    reply.failures.add(request_id=proposal.request_id, reason=exc.message)
        return reply

    async def _matched_to(self, proposal: pb.Proposal) -> pb.Match | None:
        """The match that already pairs the proposal's request with its peer, if any."""
        state = await self.ctx.store.request_state(proposal.request_id)
        if state is None or state.status != pb.REQUEST_STATUS_MATCHED or not state.match_id:
            return None
        match = await self.ctx.store.match(state.match_id)
        return match if match is not None and match.peer_id == proposal.peer_id else None


def _fill(proposal: pb.Proposal, why: tuple[Contribution, ...]) -> None:
    del proposal.contributions[:]
    add = proposal.contributions.add
    for x in why:
        add(criterion=x.criterion, points=round(x.points, 4), max_points=x.max_points, text=x.text)


def _unexplained(run: pb.BatchRun) -> pb.BatchRun:
    """What is kept of a run: ids, scores and loads, no explanation texts."""
    kept = pb.BatchRun()
    kept.CopyFrom(run)
    for proposal in kept.proposals:
        del proposal.contributions[:]
    return kept


def _done(run: pb.BatchRun) -> pb.BatchProgress:
    event = pb.BatchProgress(batch_id=run.batch_id, phase=pb.BATCH_PHASE_DONE, elapsed_seconds=run.seconds)
    event.objective, event.bound, event.gap = run.objective, run.bound, run.gap
    event.run.CopyFrom(run)
    return event


def _time_limit(requested: float, default: float) -> float:
    if not 0 <= requested <= MAX_TIME_LIMIT_S:  # NaN fails too: it would leave the solver unbounded
        raise InvalidArgument("time_limit_seconds", f"must be between 0 and {MAX_TIME_LIMIT_S:.0f}")
    return requested or default


def _check_policy(policy: pb.BatchPolicy) -> None:
    if policy.intake_cap_per_peer < 0:
        raise InvalidArgument("policy.intake_cap_per_peer", "must not be negative")
    if policy.youth_cap_per_peer < 0:
        raise InvalidArgument("policy.youth_cap_per_peer", "must not be negative")
    if policy.fairness not in pb.Fairness.values():
        raise InvalidArgument("policy.fairness", "is not a known value")
