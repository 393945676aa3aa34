"""Batch matching over the waiting list (or given requests).

The solver core is a pure function over arrays; this use case builds its
input from the live roster (feasibility and fit from the online engine,
priority from urgency and time waited, free capacity from current loads),
runs it off the event loop (matrices and explanations in a thread, the
solve in a child process),
and stores the result as a proposal: each pair with the shortlist's
explanation and the peer's load before and after. Staff confirm proposals,
each through the same atomic accept as an intake.

``run`` answers when the solve ends, within the call's deadline: its time
limit is capped below the server's deadline, and shortened to what is left
of the call's own. ``start`` answers at once with the batch id and solves in
a background task of this replica, whose progress (``batch_progress.py``)
any replica's ``watch`` reads from Redis; ``cancel`` (from any replica)
leaves a flag that the solving replica polls. The solve itself runs in a
child process (``solver_process.py``), killed when its caller goes away, the
batch is cancelled or the service stops.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime

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
from alongside.matcher.domain.pair_matrices import PairMatrices, pair_matrices
from alongside.matcher.domain.results import Contribution
from alongside.matcher.domain.solver import BatchProblem, BatchResult, Report, SideConstraints
from alongside.matcher.domain.solver.progress import silent
from alongside.matcher.mappers import request_in
from alongside.matcher.service.batch_progress import Pump
from alongside.matcher.service.context import Context, idem, parse_reply
from alongside.matcher.service.intake import OPEN, Intake
from alongside.matcher.service.solver_process import Solvers, SolverStopped

MAX_BATCH = 10_000
MAX_TIME_LIMIT_S = 300.0
# RunBatchMatch answers within the server's deadline: its time limit may take at most this
# share of it, and the solve keeps back time for what follows it (proposals, explanations,
# storing) from what is left of the call's own deadline.
RUN_LIMIT_SHARE = 0.5
RESERVE_S = 1.0
RESERVE_PER_REQUEST_S = 0.0005
MIN_SOLVE_S = 0.1
# ConfirmBatch stops accepting this long before the call's deadline (an accept takes milliseconds).
CONFIRM_RESERVE_S = 2.0
OUT_OF_TIME = "not confirmed before the call's deadline; confirm the batch again to go on"
# A started batch's replica looks for a cancel this often (the solver then stops at once).
CANCEL_POLL_S = 0.2
URGENCY_RANK = {pb.URGENCY_ROUTINE: 0.0, pb.URGENCY_PRIORITY: 1.0, pb.URGENCY_URGENT: 2.0}
YOUNG = (AgeBand.CHILD, AgeBand.YOUTH)
# One solve at a time per replica: it takes the cores it is given.
SOLVES_AT_ONCE = 1
# A watch waits this long per Redis read, and gives up on a batch silent for STALL_S
# (a running batch writes a heartbeat every half second; its replica may have died).
WATCH_BLOCK_MS = 1000
STALL_S = 30.0
DONE = (pb.BATCH_PHASE_DONE, pb.BATCH_PHASE_FAILED, pb.BATCH_PHASE_CANCELLED)
STOPPED = "the matcher stopped before the batch finished; run it again"
CANCELLED = "cancelled by CancelBatchMatch"
log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Prepared:
    """A batch's solver input, with what turning its result into proposals needs."""

    pm: PairMatrices
    problem: BatchProblem
    now: datetime
    declined: dict[str, frozenset[str]]


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
        self._solvers = Solvers()

    async def run(self, req: pb.RunBatchMatchRequest, remaining_s: float | None = None) -> pb.RunBatchMatchResponse:
        """Solve and answer; ``remaining_s`` is what is left of the call's own deadline, if it has one."""
        deadline_s = self.ctx.settings.default_deadline_seconds
        ends = time.monotonic() + self._budget(remaining_s)
        key = idem("RunBatchMatch", req.idempotency_key, req)
        cap = RUN_LIMIT_SHARE * deadline_s
        if not 0 <= req.time_limit_seconds <= cap:  # NaN fails too
            raise InvalidArgument(
                "time_limit_seconds",
                f"must be between 0 and {cap:g} for RunBatchMatch, which must answer within the server's "
                f"{deadline_s:g} s deadline; StartBatchMatch takes up to {MAX_TIME_LIMIT_S:.0f} and answers at once",
            )
        limit, ids = await self._checked(req)
        limit = min(limit, cap)
        states, domains = await self._load(ids, explicit=bool(req.request_ids))
        run = await self._solve(new_id("b"), states, domains, req.policy, limit, until=ends)

        async def body(tx: Tx) -> bytes:
            tx.begin()
            self.ctx.store.put_batch(tx.pipe, _unexplained(run))
            return pb.RunBatchMatchResponse(run=run).SerializeToString()

        return parse_reply(pb.RunBatchMatchResponse, await self.ctx.uow.run(body, idempotency=key))

    def _budget(self, remaining_s: float | None) -> float:
        """Seconds until the call's deadline: the server's, or the client's if that is sooner."""
        deadline_s = self.ctx.settings.default_deadline_seconds
        return deadline_s if remaining_s is None else min(remaining_s, deadline_s)

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
        work = asyncio.create_task(self._work(job, pump))
        heard = asyncio.create_task(self._cancel_heard(job.batch_id))
        try:
            await asyncio.wait((work, heard), return_when=asyncio.FIRST_COMPLETED)
            if not work.done():  # cancelled: killing the solver's process stops it at once
                await _stopped(work)
                log.info("batch.cancelled", batch_id=job.batch_id)
                await self._ended(pump, pumping, pb.BATCH_PHASE_CANCELLED, CANCELLED)
                return
            run = work.result()
            await pump.finish(pumping)
            await self._finished(run, pump.current, pump.elapsed())
        except (InvalidArgument, NotFound, FailedPrecondition) as exc:
            await self._ended(pump, pumping, pb.BATCH_PHASE_FAILED, exc.message)
        except SolverStopped:
            await self._ended(pump, pumping, pb.BATCH_PHASE_FAILED, STOPPED)
        except asyncio.CancelledError:
            await _stopped(work)
            await self._ended(pump, pumping, pb.BATCH_PHASE_FAILED, STOPPED)
            raise
        except Exception as exc:  # noqa: BLE001 - the watcher must hear that it ended
            log.error("batch.failed", batch_id=job.batch_id, error=type(exc).__name__)
            await self._ended(pump, pumping, pb.BATCH_PHASE_FAILED, "the batch failed; see the matcher's log")
        finally:
            heard.cancel()

    async def _work(self, job: Job, pump: Pump) -> pb.BatchRun:
        async with self._solving:
            pump.phase(pb.BATCH_PHASE_LOADING)
            states, domains = await self._load(job.ids, explicit=job.explicit)
            pump.phase(pb.BATCH_PHASE_LOADING, requests=len(states))
            return await self._solve(job.batch_id, states, domains, job.policy, job.limit, report=pump.report)

    async def _cancel_heard(self, batch_id: str) -> None:
        """Returns once someone (on any replica) has cancelled the batch."""
        while True:
            try:
                if await self.ctx.store.cancel_requested(batch_id):
                    return
            except Exception as exc:  # noqa: BLE001 - Redis away for a moment: keep looking
                log.warning("batch.cancel_unread", batch_id=batch_id, error=type(exc).__name__)
            await asyncio.sleep(CANCEL_POLL_S)

    async def cancel(self, req: pb.CancelBatchMatchRequest) -> pb.CancelBatchMatchResponse:
        """Flag the batch for its replica to stop; answer with its progress as it stood."""
        key = idem("CancelBatchMatch", req.idempotency_key, req)
        batch_id = check_id("batch_id", req.batch_id)
        last = await self.ctx.store.last_progress(batch_id)
        if last is None:
            run = await self.ctx.store.batch(batch_id)
            if run is None:
                raise NotFound("batch_id: no such batch")
            last = _done(run)  # run by RunBatchMatch, or its progress has expired: it has ended
            last.ClearField("run")

        async def body(tx: Tx) -> bytes:
            tx.begin()
            if last.phase not in DONE:
                self.ctx.store.request_cancel(tx.pipe, batch_id)
            return pb.CancelBatchMatchResponse(progress=last).SerializeToString()

        return parse_reply(pb.CancelBatchMatchResponse, await self.ctx.uow.run(body, idempotency=key))

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

    async def _ended(self, pump: Pump, pumping: asyncio.Task[None], phase: pb.BatchPhase, why: str) -> None:
        """End the batch's progress FAILED or CANCELLED, saying why."""
        await pump.abandon(pumping)  # nothing of the pump's may land after the end
        failed = pb.BatchProgress()
        failed.CopyFrom(pump.current)
        failed.phase, failed.failure, failed.elapsed_seconds = phase, why, pump.elapsed()
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
                        horizon=self.ctx.horizon,
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
        self._solvers.stop_all()  # RunBatchMatch's too: their callers hear UNAVAILABLE
        await asyncio.gather(*self._jobs, return_exceptions=True)

    async def _load(self, ids: list[str], explicit: bool) -> tuple[list[pb.MatchRequest], list[MatchRequest]]:
        states, domains = [], []
        for i, (request_id, found) in enumerate(zip(ids, await self.ctx.store.requests(ids), strict=True)):
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
        *,
        report: Report = silent,
        until: float | None = None,
    ) -> pb.BatchRun:
        """Matrices and explanations in a thread, the solve in a child process.

        ``until`` (a monotonic time) is when the answer is due: the solve's limit
        then keeps back time for what follows it."""
        if not states:
            return pb.BatchRun(batch_id=batch_id, solver_status="EMPTY")
        snap = await self.ctx.cache.current()
        prepared = await asyncio.to_thread(self._prepare, snap, states, domains, policy)
        if until is not None:
            left = until - time.monotonic() - RESERVE_S - RESERVE_PER_REQUEST_S * len(states)
            limit = max(min(limit, left), MIN_SOLVE_S)
        with tracing.solver("batch", len(states)) as span:
            result = await self._solvers.solve(prepared.problem, limit, report)
            tracing.solved(span, result.status, result.gap, result.seconds)
        return await asyncio.to_thread(self._proposals, batch_id, snap, domains, prepared, result)

    def _prepare(
        self,
        snap: Snapshot,
        states: list[pb.MatchRequest],
        domains: list[MatchRequest],
        policy: pb.BatchPolicy,
    ) -> Prepared:
        """The pair matrices and the solver's problem: CPU work, run in a thread."""
        now = self.ctx.clock()
        declined = {s.request_id: frozenset(s.declined_peer_ids) for s in states}
        programme = self.ctx.policy
        pm = pair_matrices(
            snap.index,
            domains,
            weights=self.ctx.weights,
            now=now,
            declined=declined,
            loads=snap.loads,
            policy=programme,
            horizon=self.ctx.horizon,
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
        return Prepared(pm, problem, now, declined)

    def _proposals(
        self, batch_id: str, snap: Snapshot, domains: list[MatchRequest], prepared: Prepared, result: BatchResult
    ) -> pb.BatchRun:
        """The solver's result as explained proposals: CPU work, run in a thread."""
        pm, problem, now, declined = prepared.pm, prepared.problem, prepared.now, prepared.declined
        programme = self.ctx.policy
        run = pb.BatchRun(batch_id=batch_id)
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
                horizon=self.ctx.horizon,
            )
            _fill(proposal, why)
        run.objective, run.bound, run.gap = result.objective, result.bound, result.gap
        run.solver_status, run.engine, run.seconds = result.status, result.engine, result.seconds
        run.policy_digest = programme.digest
        return run

    async def confirm(self, req: pb.ConfirmBatchRequest, remaining_s: float | None = None) -> pb.ConfirmBatchResponse:
        """Accept the proposals one by one, stopping short of the call's deadline (the rest are
        reported not confirmed: confirming again goes on where this call stopped)."""
        ends = time.monotonic() + self._budget(remaining_s) - CONFIRM_RESERVE_S
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
            if time.monotonic() > ends:
                reply.failures.add(request_id=proposal.request_id, reason=OUT_OF_TIME)
                continue
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


async def _stopped(task: asyncio.Task[pb.BatchRun]) -> None:
    """Cancel ``task`` and wait until it has ended (its solver process killed)."""
    task.cancel()
    await asyncio.wait((task,))


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
