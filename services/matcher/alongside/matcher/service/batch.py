"""Batch matching over the waiting list (or given requests).

The solver core is a pure function over arrays; this use case builds its
input from the live roster (feasibility and fit from the online engine,
priority from urgency and time waited, free capacity from current loads),
runs it off the event loop, and stores the result as a proposal. Staff
confirm proposals, each through the same atomic accept as an intake.
"""

from __future__ import annotations

import asyncio

import numpy as np

from alongside.api.matcher.v1 import matcher_pb2 as pb
from alongside.kit.errors import Aborted, FailedPrecondition, InvalidArgument, NotFound
from alongside.kit.ids import check_id, new_id
from alongside.kit.uow import Tx
from alongside.matcher.domain.model import AgeBand, MatchRequest
from alongside.matcher.domain.pair_matrices import pair_matrices
from alongside.matcher.domain.solver import BatchProblem, SideConstraints, solve
from alongside.matcher.mappers import request_in
from alongside.matcher.service.context import Context, idem, parse_reply
from alongside.matcher.service.intake import OPEN, Intake

MAX_BATCH = 10_000
MAX_TIME_LIMIT_S = 300.0
URGENCY_RANK = {pb.URGENCY_ROUTINE: 0.0, pb.URGENCY_PRIORITY: 1.0, pb.URGENCY_URGENT: 2.0}
YOUNG = (AgeBand.CHILD, AgeBand.YOUTH)


class Batch:
    def __init__(self, ctx: Context, intake: Intake) -> None:
        self.ctx, self.intake = ctx, intake

    async def run(self, req: pb.RunBatchMatchRequest) -> pb.RunBatchMatchResponse:
        key = idem("RunBatchMatch", req.idempotency_key, req)
        limit = _time_limit(req.time_limit_seconds, self.ctx.settings.batch_time_limit_seconds)
        _check_policy(req.policy)
        ids = list(req.request_ids) or await self.ctx.store.waitlist(0, MAX_BATCH)
        if len(ids) > MAX_BATCH:
            raise InvalidArgument("request_ids", f"must hold at most {MAX_BATCH} ids")
        states, domains = await self._load(ids, explicit=bool(req.request_ids))
        run = await self._solve(states, domains, req.policy, limit)

        async def body(tx: Tx) -> bytes:
            tx.begin()
            self.ctx.store.put_batch(tx.pipe, run)
            return pb.RunBatchMatchResponse(run=run).SerializeToString()

        return parse_reply(pb.RunBatchMatchResponse, await self.ctx.uow.run(body, idempotency=key))

    async def _load(self, ids: list[str], explicit: bool) -> tuple[list[pb.MatchRequest], list[MatchRequest]]:
        states, domains = [], []
        for i, request_id in enumerate(ids):
            found = await self.ctx.store.request(check_id(f"request_ids[{i}]", request_id))
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
        self, states: list[pb.MatchRequest], domains: list[MatchRequest], policy: pb.BatchPolicy, limit: float
    ) -> pb.BatchRun:
        run = pb.BatchRun(batch_id=new_id("b"))
        if not states:
            run.solver_status = "EMPTY"
            return run
        snap = await self.ctx.cache.current()
        now = self.ctx.clock()
        declined = {s.request_id: frozenset(s.declined_peer_ids) for s in states}
        pm = pair_matrices(snap.index, domains, weights=self.ctx.weights, now=now, declined=declined, loads=snap.loads)
        settings = self.ctx.settings
        waited_weeks = np.array([(now - s.created_at.ToDatetime(tzinfo=now.tzinfo)).days / 7 for s in states])
        priority = settings.batch_urgency_weight * np.array(
            [URGENCY_RANK.get(s.urgency, 0.0) for s in states]
        ) + settings.batch_wait_weight_per_week * np.maximum(waited_weeks, 0.0)
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
        result = await asyncio.to_thread(solve, problem, time_limit_s=limit)
        for i, j in enumerate(result.assignment.tolist()):
            if j >= 0:
                run.proposals.add(request_id=pm.request_ids[i], peer_id=pm.peer_ids[j], score=round(pm.fit[i, j], 4))
            else:
                run.unmatched_request_ids.append(pm.request_ids[i])
        run.objective, run.bound, run.gap = result.objective, result.bound, result.gap
        run.solver_status, run.engine, run.seconds = result.status, result.engine, result.seconds
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
