"""BookSession: an explicit slot or the earliest one; a single session or a weekly series.

The peer's windows and the participant's are checked here (pure domain
rules); overlaps with other sessions, buffers, time off and the daily cap
are checked by the atomic commit itself, against the calendar as it is at
that instant. Every occurrence of a series is checked, and a series is
booked whole or not at all. A series without a start takes the earliest
start that stays in both people's windows across clock changes; one that
cannot is refused with the date of the change (``domain/series_fit.py``).

Under contention most requests lose: when this process has seen the slot
taken, the script is first asked, writing nothing, whether it still fits,
and the write (records, event, reminders) is only built if it does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import islice

from alongside.api.scheduler.v1 import scheduler_pb2 as pb
from alongside.kit.errors import Aborted, FailedPrecondition, InvalidArgument, NotFound
from alongside.scheduler.adapters.codec import PeerCalendar, ms
from alongside.scheduler.adapters.commit import Outcome
from alongside.scheduler.adapters.keys import new_series_id, new_session_id, require_peer_id, require_ref
from alongside.scheduler.domain import tz as tzx
from alongside.scheduler.domain.booking import Blocker, diagnose
from alongside.scheduler.domain.model import Availability, Session
from alongside.scheduler.domain.recurrence import Series
from alongside.scheduler.domain.series_edit import to_sessions
from alongside.scheduler.domain.series_fit import first_break
from alongside.scheduler.domain.slots import SlotQuery, find_slots, iter_slots
from alongside.scheduler.domain.validation import zone
from alongside.scheduler.entrypoints import mappers
from alongside.scheduler.service.change import Change
from alongside.scheduler.service.context import MAX_ATTEMPTS, Context, Idem, replayed, require_calendar
from alongside.scheduler.service.events import booked
from alongside.scheduler.service.rules import REFUSED, NoSlot, check_windows, refusal, slot_query

# Candidate starts tried for a series that must hold across clock changes (a few weeks of 15-minute steps).
SERIES_CANDIDATES = 500


@dataclass(frozen=True)
class Request:
    """A validated BookSessionRequest."""

    peer_id: str
    participant_ref: str
    match_id: str | None
    session_type: str
    duration: timedelta
    participant: Availability | None
    participant_tz: str | None
    start: datetime | None
    count: int | None = None
    until: datetime | None = None

    @property
    def recurring(self) -> bool:
        return self.count is not None or self.until is not None


def parse(req: pb.BookSessionRequest, ctx: Context, now: datetime) -> Request:
    """Every field rule, before anything is read or written."""
    kind, duration = mappers.duration_in(
        req.session_type, req.duration_minutes, ctx.policy, ctx.settings.first_session_type
    )
    start = mappers.ts_opt(req, "start")
    if start is not None:
        mappers.future(start, now, "start")
        if start > now + ctx.settings.booking_horizon:
            raise InvalidArgument("start", "is beyond the booking horizon")
    participant_tz = mappers.participant_zone(req.participant_time_zone)
    count, until = mappers.recurrence_in(req)
    return Request(
        peer_id=require_peer_id(req.peer_id),
        participant_ref=require_ref(req.participant_ref, "participant_ref"),
        match_id=require_ref(req.match_id, "match_id") if req.match_id else None,
        session_type=kind,
        duration=duration,
        participant=mappers.participant_in(req.participant_time_zone, req.participant_availability),
        participant_tz=participant_tz,
        start=start,
        count=count,
        until=until,
    )


class Booking:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.buffer_ms = int(ctx.policy.buffer.total_seconds() * 1000)

    async def book(self, req: pb.BookSessionRequest) -> pb.BookSessionResponse:
        idem = Idem.of(require_peer_id(req.peer_id), "BookSession", req.idempotency_key, req)
        return await self.book_with(idem, req)

    async def book_with(self, idem: Idem, req: pb.BookSessionRequest) -> pb.BookSessionResponse:
        """Book under ``idem``; a replay returns the first answer, even if the slot has passed.

        The hot path is one round trip: the commit script itself answers a
        replay (or, for a slot that looks taken, the probe does). Only when a
        rule refuses the request before the commit is the idempotency record
        read, so that a replayed request is answered even if its slot has
        passed since.
        """
        try:
            request = parse(req, self.ctx, self.ctx.clock())
            calendar = require_calendar(await self.ctx.calendar(request.peer_id))
        except (InvalidArgument, FailedPrecondition, NotFound):
            stored = await self.ctx.store.idem(idem.redis_key(self.ctx))
            if stored is not None:
                return replayed(pb.BookSessionResponse, idem, stored)
            raise
        return await self._commit(idem, request, calendar)

    async def _commit(self, idem: Idem, request: Request, calendar: PeerCalendar) -> pb.BookSessionResponse:
        for _ in range(MAX_ATTEMPTS):
            now = self.ctx.clock()
            start = request.start or await self._earliest(calendar, request, now)
            series = self._series(calendar, request, start) if request.recurring else None
            sessions = to_sessions(series) if series else [self._single(request, start)]
            check_windows(self.ctx, calendar, request.participant, sessions, now)
            outcome = await self._probe(idem, calendar, sessions, now)
            if outcome.kind == "ok":
                response = self._response(calendar, request, sessions)
                outcome = await self._write(idem, calendar, series, sessions, now, response)
                if outcome.kind == "ok":
                    return response
            if outcome.kind == "replay":
                return replayed(pb.BookSessionResponse, idem, (outcome.fingerprint, outcome.response))
            if outcome.kind in REFUSED and request.start is not None:
                raise FailedPrecondition(refusal(outcome.kind, outcome.index, request.recurring))
            # The calendar changed, or another booking took the earliest slot: look again.
            calendar = require_calendar(await self.ctx.calendar(request.peer_id, fresh=True))
        raise Aborted("the peer's calendar kept changing; retry")

    async def _earliest(self, calendar: PeerCalendar, request: Request, now: datetime) -> datetime:
        query = await slot_query(self.ctx, calendar, request.participant, request.duration, now)
        if query is None:
            raise NoSlot(Blocker.OUTSIDE_HORIZON)
        found = find_slots(query, limit=1)
        if not found:
            raise NoSlot(diagnose(query) or Blocker.CONFLICT)
        return self._lasting(calendar, request, query) if request.recurring else found[0].start

    def _lasting(self, calendar: PeerCalendar, request: Request, query: SlotQuery) -> datetime:
        """The earliest start whose whole weekly series stays in both people's windows.

        Across a clock change the series keeps the peer's wall time and may
        leave the participant's windows; a start that holds all series long
        is chosen. If none of the first ``SERIES_CANDIDATES`` does, the
        earliest slot is returned and ``check_windows`` refuses it, naming
        the occurrence and the clock change.
        """
        earliest = None
        peer_zone = zone(calendar.tz)
        for slot in islice(iter_slots(query), SERIES_CANDIDATES):
            earliest = earliest or slot.start
            if not tzx.expressible_as_wall_time(slot.start, peer_zone):
                continue
            series = self._series(calendar, request, slot.start)
            slots = [o.interval for o in series.occurrences()]
            if first_break(calendar.availability, request.participant, slots) is None:
                return slot.start
        assert earliest is not None  # find_slots found one
        return earliest

    async def _probe(self, idem: Idem, calendar: PeerCalendar, sessions: list[Session], now: datetime) -> Outcome:
        """``ok``, or, when this process saw the slot taken, the script's answer to
        the checks alone: a refusal then costs no records, event or reminders.

        The probe writes nothing, and an ``ok`` from it only leads to the full
        write, which the script checks again.
        """
        taken, peer_id = self.ctx.taken, calendar.peer_id
        spans = [(ms(s.start), ms(s.end)) for s in sessions]
        if not any(taken.likely(peer_id, start, end, self.buffer_ms) for start, end in spans):
            return Outcome("ok")
        change = Change(self.ctx, peer_id, zone(calendar.tz), now)
        change.guard_calendar(calendar)
        change.probe(idem, sessions)
        outcome = await change.run()
        if outcome.kind == "ok":  # the hint was stale
            for start, end in spans:
                taken.forget(peer_id, start, end, self.buffer_ms)
        return self._learn(peer_id, outcome, now)

    async def _write(
        self,
        idem: Idem,
        calendar: PeerCalendar,
        series: Series | None,
        sessions: list[Session],
        now: datetime,
        response: pb.BookSessionResponse,
    ) -> Outcome:
        change = Change(self.ctx, calendar.peer_id, zone(calendar.tz), now)
        change.guard_calendar(calendar)
        if series is not None:
            change.put_series(series)
        for session in sessions:
            change.add(session)
            change.emit(booked(session))
        change.finish(idem, response)
        outcome = await change.run()
        if outcome.kind == "ok":
            for session in sessions:
                self.ctx.taken.note(calendar.peer_id, ms(session.start), ms(session.end), ms(now))
        return self._learn(calendar.peer_id, outcome, now)

    def _learn(self, peer_id: str, outcome: Outcome, now: datetime) -> Outcome:
        """A conflict names the session in the way: the next request for it is probed."""
        if outcome.taken is not None:
            self.ctx.taken.note(peer_id, *outcome.taken, ms(now))
        return outcome

    def _response(self, calendar: PeerCalendar, request: Request, sessions: list[Session]) -> pb.BookSessionResponse:
        response = pb.BookSessionResponse(session=mappers.session_out(sessions[0], calendar.tz))
        if request.recurring:
            response.occurrences.extend(mappers.session_out(s, calendar.tz) for s in sessions)
        return response

    def _single(self, request: Request, start: datetime) -> Session:
        return Session(
            id=new_session_id(request.peer_id),
            peer_id=request.peer_id,
            participant_ref=request.participant_ref,
            start=start,
            end=start + request.duration,
            session_type=request.session_type,
            match_id=request.match_id,
            participant_tz=request.participant_tz,
        )

    def _series(self, calendar: PeerCalendar, request: Request, start: datetime) -> Series:
        """Every occurrence of the weekly series, anchored on the peer's local wall time."""
        peer_zone = zone(calendar.tz)
        if not tzx.expressible_as_wall_time(start, peer_zone):
            raise InvalidArgument("start", "a weekly series cannot start in the repeated hour's second pass")
        until = None if request.until is None else tzx.local_of(request.until, peer_zone).date()
        try:
            return Series(
                id=new_series_id(request.peer_id),
                peer_id=request.peer_id,
                participant_ref=request.participant_ref,
                tz=calendar.tz,
                first_start_local=tzx.local_of(start, peer_zone),
                duration=request.duration,
                count=request.count,
                until=until,
                session_type=request.session_type,
                match_id=request.match_id,
                participant_tz=request.participant_tz,
            )
        except InvalidArgument as exc:
            raise InvalidArgument(f"recurrence.{exc.field}", exc.message.split(": ", 1)[-1]) from None
