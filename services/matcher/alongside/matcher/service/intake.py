"""Intake use cases: submit, decline, accept and close a match.

Shortlists are computed from the cached roster; every state change, its
events and its idempotency record are one Redis transaction. Accepting
re-checks the chosen pair against the live peer and load under WATCH, so
concurrent accepts from any number of replicas can never over-fill a peer.
"""

from __future__ import annotations

import asyncio

from alongside.api.matcher.v1 import events_pb2 as ev
from alongside.api.matcher.v1 import matcher_pb2 as pb
from alongside.kit.aio import wait_any
from alongside.kit.errors import FailedPrecondition, InvalidArgument, NotFound
from alongside.kit.ids import check_id, new_id
from alongside.kit.uow import Tx
from alongside.matcher.adapters.group_store import GroupCache
from alongside.matcher.domain.group_offers import Offer, offer_groups
from alongside.matcher.domain.groups import GroupPathway
from alongside.matcher.domain.model import MatchRequest
from alongside.matcher.domain.results import Shortlist
from alongside.matcher.domain.roster_index import RosterIndex
from alongside.matcher.domain.shortlist import shortlist
from alongside.matcher.domain.validation import validate_request
from alongside.matcher.group_mappers import apply_offers, pathways_in
from alongside.matcher.mappers import apply_shortlist, peer_in, request_in
from alongside.matcher.service.consent import check_consent
from alongside.matcher.service.context import Context, emit, idem, parse_reply

OPEN = (pb.REQUEST_STATUS_SHORTLISTED, pb.REQUEST_STATUS_WAITLISTED, pb.REQUEST_STATUS_PROPOSED)


class Intake:
    def __init__(self, ctx: Context, groups: GroupCache | None = None) -> None:
        self.ctx, self.groups = ctx, groups

    async def _offers(self, request: MatchRequest, pathways: frozenset[GroupPathway]) -> tuple[Offer, ...]:
        """Community groups for the participant (docs/matcher.md, "Community groups")."""
        if self.groups is None or not self.ctx.settings.group_offer_size:
            return ()
        directory = await self.groups.current()
        n = self.ctx.settings.group_offer_size
        return offer_groups(directory, request, pathways, n=n, now=self.ctx.clock(), horizon=self.ctx.horizon)

    async def _shortlist(self, request: MatchRequest, declined: frozenset[str], k: int) -> Shortlist:
        snap = await self.ctx.cache.current()
        return shortlist(
            snap.index,
            request,
            k=k,
            weights=self.ctx.weights,
            now=self.ctx.clock(),
            declined=declined,
            loads=snap.loads,
            policy=self.ctx.policy,
            horizon=self.ctx.horizon,
        )

    async def submit(self, req: pb.SubmitMatchRequestRequest) -> pb.SubmitMatchRequestResponse:
        key = idem("SubmitMatchRequest", req.idempotency_key, req)
        request_id = new_id("req")
        domain = validate_request(request_in(request_id, req), self.ctx.policy)
        pathways = pathways_in(req.group_pathways)
        check_consent(req.consent, self.ctx.clock())
        k = req.shortlist_size or self.ctx.settings.shortlist_size
        if not 0 <= req.shortlist_size <= 50:
            raise InvalidArgument("shortlist_size", "must be between 1 and 50")
        result = await self._shortlist(domain, frozenset(), k)
        # The state is built inside the response: a message given to a constructor is copied.
        response = pb.SubmitMatchRequestResponse()
        state = response.request
        state.request_id = request_id
        state.urgency = req.urgency or pb.URGENCY_ROUTINE
        state.created_at.FromDatetime(self.ctx.clock())
        apply_shortlist(state, result, self.ctx.policy.digest)
        apply_offers(state, await self._offers(domain, pathways))

        fresh = b""

        def body(tx: Tx) -> bytes:
            nonlocal fresh
            self.ctx.store.put_request(tx.pipe, request_id, state, req)
            self.ctx.store.set_waitlisted(tx.pipe, state)
            requested = ev.MatchRequested(request_id=request_id, urgency=state.urgency, peer_types=req.peer_types)
            emit(tx, "match.requested", requested, request_id)
            _emit_outcome(tx, state, result)
            fresh = response.SerializeToString()
            return fresh

        # A new request reads nothing another writer could change: one round trip.
        stored = await self.ctx.uow.run_blind(body, idempotency=key)
        # This call's own answer as built; a replay's as first stored.
        return response if stored is fresh else parse_reply(pb.SubmitMatchRequestResponse, stored)

    async def decline(self, req: pb.DeclineMatchRequest) -> pb.DeclineMatchResponse:
        key = idem("DeclineMatch", req.idempotency_key, req)
        check_id("request_id", req.request_id)
        check_id("peer_id", req.peer_id)

        async def body(tx: Tx) -> bytes:
            submitted, state = await self._open_request(tx, req.request_id)
            await self._check_declinable(tx, state, req.peer_id)
            declined = frozenset(state.declined_peer_ids) | {req.peer_id}
            domain = request_in(state.request_id, submitted)
            result = await self._shortlist(domain, declined, len(state.candidates) or self.ctx.settings.shortlist_size)
            if req.peer_id not in state.declined_peer_ids:
                state.declined_peer_ids.append(req.peer_id)
            apply_shortlist(state, result, self.ctx.policy.digest)
            tx.begin()
            self.ctx.store.put_request(tx.pipe, state.request_id, state)
            self.ctx.store.set_waitlisted(tx.pipe, state)
            emit(
                tx,
                "match.declined",
                ev.MatchDeclined(request_id=state.request_id, peer_id=req.peer_id),
                state.request_id,
            )
            _emit_outcome(tx, state, result)
            return pb.DeclineMatchResponse(request=state).SerializeToString()

        return parse_reply(pb.DeclineMatchResponse, await self.ctx.uow.run(body, idempotency=key))

    async def _check_declinable(self, tx: Tx, state: pb.MatchRequest, peer_id: str) -> None:
        """Only a candidate on the request's current shortlist can be declined."""
        if peer_id in state.declined_peer_ids:
            raise FailedPrecondition("this peer was already declined for this request")
        if any(c.peer_id == peer_id for c in state.candidates):
            return
        if await self.ctx.store.peer(peer_id, via=tx.pipe) is None:
            raise NotFound("peer not found")
        raise FailedPrecondition("this peer is not on this request's shortlist")

    async def accept(self, req: pb.AcceptMatchRequest) -> pb.AcceptMatchResponse:
        key = idem("AcceptMatch", req.idempotency_key, req)
        check_id("request_id", req.request_id)
        check_id("peer_id", req.peer_id)

        async def body(tx: Tx) -> bytes:
            store = self.ctx.store
            await tx.watch(store.k.peer(req.peer_id), store.k.load(req.peer_id))
            submitted, state = await self._open_request(tx, req.request_id)
            if req.peer_id in state.declined_peer_ids:
                raise FailedPrecondition("this peer was declined for this request")
            peer = await store.peer(req.peer_id, via=tx.pipe)
            if peer is None:
                raise NotFound("peer not found")
            (load,) = await store.loads([req.peer_id], via=tx.pipe)
            revoked = await store.consent_revoked_ms(state.request_id, via=tx.pipe)
            domain = request_in(state.request_id, submitted)
            self._check_pair(RosterIndex([peer_in(peer)], {peer.peer_id: load}), domain)
            match = pb.Match(
                match_id=new_id("m"),
                request_id=state.request_id,
                peer_id=req.peer_id,
                participant_ref=submitted.participant.participant_ref,
                status=pb.MATCH_STATUS_ACTIVE,
                acuity=domain.acuity,
            )
            match.accepted_at.FromDatetime(self.ctx.clock())
            state.status = pb.REQUEST_STATUS_MATCHED
            state.match_id = match.match_id
            tx.begin()
            store.put_match(tx.pipe, match)
            store.put_request(tx.pipe, state.request_id, state)
            store.set_waitlisted(tx.pipe, state)
            store.add_load(tx.pipe, req.peer_id, domain.acuity)
            emit(tx, "match.accepted", _accepted(match, submitted, state), match.match_id)
            if revoked is not None:  # revoked before the match existed: tell the notifier now
                gone = ev.ConsentRevoked(request_id=state.request_id, match_id=match.match_id, peer_id=match.peer_id)
                gone.revoked_at.FromMilliseconds(revoked)
                emit(tx, "match.consent_revoked", gone, match.match_id)
            return pb.AcceptMatchResponse(match=match).SerializeToString()

        reply = parse_reply(pb.AcceptMatchResponse, await self.ctx.uow.run(body, idempotency=key))
        self.ctx.cache.invalidate()
        return reply

    def _check_pair(self, index: RosterIndex, request: MatchRequest) -> None:
        now, horizon = self.ctx.clock(), self.ctx.horizon
        result = shortlist(
            index, request, k=1, weights=self.ctx.weights, now=now, policy=self.ctx.policy, horizon=horizon
        )
        if not result.candidates:
            summary = result.reason.summary if result.reason else "the peer does not fit this request"
            raise FailedPrecondition(f"cannot accept: {summary}")

    async def close(self, req: pb.CloseMatchRequest) -> pb.CloseMatchResponse:
        key = idem("CloseMatch", req.idempotency_key, req)
        check_id("match_id", req.match_id)
        if req.reason not in pb.CloseReason.values() or req.reason == pb.CLOSE_REASON_UNSPECIFIED:
            raise InvalidArgument("reason", "is missing or not a known value")

        async def body(tx: Tx) -> bytes:
            store = self.ctx.store
            await tx.watch(store.k.match(req.match_id))
            match = await store.match(req.match_id, via=tx.pipe)
            if match is None:
                raise NotFound("match not found")
            if match.status != pb.MATCH_STATUS_ACTIVE:
                raise FailedPrecondition("the match is already closed")
            match.status = pb.MATCH_STATUS_CLOSED
            match.close_reason = req.reason
            match.closed_at.FromDatetime(self.ctx.clock())
            tx.begin()
            store.put_match(tx.pipe, match)
            store.add_load(tx.pipe, match.peer_id, -match.acuity)
            store.put_finished(tx.pipe, match.request_id, match.closed_at.ToMilliseconds())
            closed = ev.MatchClosed(
                match_id=match.match_id,
                request_id=match.request_id,
                peer_id=match.peer_id,
                reason=match.close_reason,
                closed_at=match.closed_at,
            )
            emit(tx, "match.closed", closed, match.match_id)
            return pb.CloseMatchResponse(match=match).SerializeToString()

        reply = parse_reply(pb.CloseMatchResponse, await self.ctx.uow.run(body, idempotency=key))
        self.ctx.cache.invalidate()
        return reply

    async def _open_request(self, tx: Tx, request_id: str) -> tuple[pb.SubmitMatchRequestRequest, pb.MatchRequest]:
        await tx.watch(self.ctx.store.k.request(request_id))
        found = await self.ctx.store.request(request_id, via=tx.pipe)
        if found is None:
            raise NotFound("match request not found")
        if found[1].status not in OPEN:
            raise FailedPrecondition("the match request is no longer open")
        return found


def _emit_outcome(tx: Tx, state: pb.MatchRequest, result: Shortlist) -> None:
    if state.status == pb.REQUEST_STATUS_SHORTLISTED:
        body = ev.MatchShortlisted(request_id=state.request_id, candidate_count=len(state.candidates))
        emit(tx, "match.shortlisted", body, state.request_id)
    else:
        constraint = result.reason.constraint if result.reason else ""
        body_w = ev.MatchWaitlisted(request_id=state.request_id, constraint=constraint, urgency=state.urgency)
        emit(tx, "match.waitlisted", body_w, state.request_id)


def _accepted(match: pb.Match, submitted: pb.SubmitMatchRequestRequest, state: pb.MatchRequest) -> ev.MatchAccepted:
    return ev.MatchAccepted(
        match_id=match.match_id,
        request_id=match.request_id,
        peer_id=match.peer_id,
        participant_ref=match.participant_ref,
        urgency=state.urgency,
        accepted_at=match.accepted_at,
        participant_time_zone=submitted.participant.time_zone,
        participant_availability=submitted.participant.availability,
        session_minutes=submitted.session_minutes or 60,
        requested_at=state.created_at,
    )


class Rematch:
    """Re-shortlist the waiting list after capacity frees up.

    A close, a new peer or a capacity change wakes it in this replica; a
    periodic pass covers changes made through other replicas.
    """

    def __init__(self, ctx: Context, intake: Intake, period_s: float = 60.0) -> None:
        self.ctx, self.intake, self.period_s = ctx, intake, period_s
        self.wakeup = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await wait_any((stop, self.wakeup), self.period_s)
            self.wakeup.clear()
            if not stop.is_set():
                await self.pass_once()

    async def pass_once(self) -> int:
        moved = 0
        for request_id in await self.ctx.store.waitlist(0, self.ctx.settings.rematch_limit):
            moved += await self._reshortlist(request_id)
        return moved

    async def _reshortlist(self, request_id: str) -> int:
        async def body(tx: Tx) -> bytes:
            submitted, state = await self.intake._open_request(tx, request_id)
            if state.status != pb.REQUEST_STATUS_WAITLISTED:
                return b"0"
            declined = frozenset(state.declined_peer_ids)
            result = await self.intake._shortlist(
                request_in(request_id, submitted), declined, self.ctx.settings.shortlist_size
            )
            if not result.candidates:
                return b"0"
            apply_shortlist(state, result, self.ctx.policy.digest)
            tx.begin()
            self.ctx.store.put_request(tx.pipe, request_id, state)
            self.ctx.store.set_waitlisted(tx.pipe, state)
            _emit_outcome(tx, state, result)
            return b"1"

        try:
            return int(await self.ctx.uow.run(body))
        except (FailedPrecondition, NotFound):
            return 0
