"""PlanWeek: place the week's unscheduled first sessions with CP-SAT.

The inputs are the accepted matches auto-booking could not place (kept by
``MatchEvents``) plus any items staff add to the request. The solver runs
off the event loop. ``commit`` books each placement through the same
atomic path as BookSession (idempotent per match), so a placement that lost
its slot in the meantime is reported unplaced rather than double-booked.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from alongside.api.scheduler.v1 import scheduler_pb2 as pb
from alongside.kit import tracing
from alongside.kit.errors import FailedPrecondition, InvalidArgument
from alongside.kit.uow import Idempotency, Tx
from alongside.scheduler.adapters.keys import require_peer_id, require_ref
from alongside.scheduler.domain.plan_model import WEEK, PlanPeer, PlanRequest, PlanResult
from alongside.scheduler.domain.planner import plan_week
from alongside.scheduler.entrypoints import mappers
from alongside.scheduler.service.auto import PLAN_TAG
from alongside.scheduler.service.booking import Booking
from alongside.scheduler.service.context import Context, Idem, parse

# PlanWeek answers within the server's deadline: its time limit may take at most this share of it.
LIMIT_SHARE = 0.5
NOT_BOOKABLE = "the peer's calendar is not known or the peer is not active"


class Planner:
    def __init__(self, ctx: Context, booking: Booking) -> None:
        self.ctx, self.booking = ctx, booking

    async def plan(self, req: pb.PlanWeekRequest) -> pb.PlanWeekResponse:
        week_start = mappers.ts_in(req, "week_start")
        deadline_s = self.ctx.settings.default_deadline_seconds
        cap = LIMIT_SHARE * deadline_s
        limit = req.time_limit_seconds or min(self.ctx.settings.plan_time_limit_seconds, cap)
        if not 0 < limit <= cap:  # NaN fails too
            raise InvalidArgument(
                "time_limit_seconds",
                f"must be more than 0 and at most {cap:g}: PlanWeek answers within the server's "
                f"{deadline_s:g} s deadline",
            )
        idem = None
        if req.commit:
            idem = Idempotency.of(PLAN_TAG, "PlanWeek", req.idempotency_key, req.SerializeToString(deterministic=True))
            stored = await self.ctx.store.idem(self.ctx.store.k.idem(PLAN_TAG, "PlanWeek", req.idempotency_key))
            if stored is not None:
                return parse(pb.PlanWeekResponse, stored[1])
        items = await self._items(req)
        requests, peers, unbookable = await self._instance(items, week_start)
        with tracing.solver("planner", len(requests)) as span:
            result = await asyncio.to_thread(plan_week, requests, peers, week_start, self.ctx.policy, limit)
            tracing.solved(span, result.status, result.gap, result.seconds)
        response = _response(result, items, unbookable)
        if idem is None:
            return response
        await self._commit(response, items)

        async def body(tx: Tx) -> bytes:
            tx.begin()
            return response.SerializeToString()

        return parse(pb.PlanWeekResponse, await self.ctx.uow.run(body, idempotency=idem))

    async def _items(self, req: pb.PlanWeekRequest) -> dict[str, pb.PlanItem]:
        """Pending matches plus the request's items; matches with a session are done."""
        store = self.ctx.store
        items: dict[str, pb.PlanItem] = {}
        for match_id, raw in (await store.pending_raw()).items():
            items[match_id] = parse(pb.PlanItem, raw)
        for item in req.items:
            require_ref(item.match_id, "items.match_id")
            require_peer_id(item.peer_id, "items.peer_id")
            require_ref(item.participant_ref, "items.participant_ref")
            mappers.participant_in(item.participant_time_zone, item.participant_availability)
            items[item.match_id] = item
        for match_id, item in list(items.items()):
            if await store.match_session_ids(item.peer_id, match_id):
                del items[match_id]
                await store.r.hdel(store.k.pending, match_id)
        return items

    async def _instance(
        self, items: dict[str, pb.PlanItem], week_start: datetime
    ) -> tuple[list[PlanRequest], list[PlanPeer], set[str]]:
        store, now = self.ctx.store, self.ctx.clock()
        calendars = await store.calendars(sorted({i.peer_id for i in items.values()}))
        usable = {p: c for p, c in calendars.items() if c.known and c.active}
        peers = []
        for peer_id, calendar in usable.items():
            booked = await store.booked(peer_id, week_start, week_start + WEEK)
            time_off = await store.time_off(peer_id)
            peers.append(
                PlanPeer(peer_id, calendar.availability, tuple(i for _, i in booked), tuple(time_off.values()))
            )
        earliest = max(week_start, now + self.ctx.policy.min_lead)
        requests = [
            PlanRequest(
                request_id=match_id,
                peer_id=item.peer_id,
                urgency=mappers.urgency_in(item.urgency),
                duration=self._duration(item),
                earliest=earliest,
                participant=mappers.participant_in(item.participant_time_zone, item.participant_availability),
            )
            for match_id, item in sorted(items.items())
            if item.peer_id in usable
        ]
        return requests, peers, {m for m, i in items.items() if i.peer_id not in usable}

    def _duration(self, item: pb.PlanItem) -> timedelta:
        settings = self.ctx.settings
        return mappers.duration_in(settings.first_session_type, item.duration_minutes, self.ctx.policy, "")[1]

    async def _commit(self, response: pb.PlanWeekResponse, items: dict[str, pb.PlanItem]) -> None:
        """Book each placement; one that lost its slot meanwhile moves to unplaced."""
        kept = []
        for placement in response.placements:
            item = items[placement.match_id]
            request = pb.BookSessionRequest(
                idempotency_key=f"plan/{placement.match_id}",
                peer_id=item.peer_id,
                participant_ref=item.participant_ref,
                match_id=item.match_id,
                session_type=self.ctx.settings.first_session_type,
                duration_minutes=item.duration_minutes,
                start=placement.start,
                participant_time_zone=item.participant_time_zone,
            )
            try:
                booked = await self.booking.book_with(
                    Idem.of(item.peer_id, "PlanBook", item.match_id, request), request
                )
            except FailedPrecondition as exc:
                response.unplaced.append(pb.Unplaced(match_id=placement.match_id, reason=exc.message))
                continue
            placement.session_id = booked.session.session_id
            kept.append(placement)
            await self.ctx.store.r.hdel(self.ctx.store.k.pending, placement.match_id)
        del response.placements[:]
        response.placements.extend(kept)


def _response(result: PlanResult, items: dict[str, pb.PlanItem], unbookable: set[str]) -> pb.PlanWeekResponse:
    response = pb.PlanWeekResponse(
        objective=result.objective or 0.0,
        bound=result.bound or 0.0,
        gap=result.gap or 0.0,
        solver_status=result.status,
        seconds=result.seconds,
    )
    for placement in result.placements:
        response.placements.append(
            pb.Placement(
                match_id=placement.request_id,
                peer_id=placement.peer_id,
                start=mappers.ts_out(placement.slot.start),
                end=mappers.ts_out(placement.slot.end),
            )
        )
    for match_id, reason in sorted(result.unplaced.items()):
        response.unplaced.append(pb.Unplaced(match_id=match_id, reason=reason))
    for match_id in sorted(unbookable):
        response.unplaced.append(pb.Unplaced(match_id=match_id, reason=NOT_BOOKABLE))
    return response
