"""RescheduleSession, CancelSession, MarkAttended and MarkNoShow.

For an occurrence of a series, ``SCOPE_THIS`` changes that occurrence (an
override or an EXDATE in the feed); ``SCOPE_THIS_AND_FOLLOWING`` cuts the
series there. Moving "this and following" cancels the old occurrences
(reason RESCHEDULED) and books a new series whose every occurrence is
checked, in the same atomic write.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from google.protobuf.message import Message

from alongside.api.scheduler.v1 import scheduler_pb2 as pb
from alongside.kit.errors import InvalidArgument
from alongside.kit.events.envelope import Event
from alongside.scheduler.adapters.keys import new_series_id, peer_of
from alongside.scheduler.domain import lifecycle
from alongside.scheduler.domain import tz as tzx
from alongside.scheduler.domain.model import Session
from alongside.scheduler.domain.series_edit import cancel_occurrence, move_occurrence, split, to_sessions, truncate
from alongside.scheduler.domain.validation import zone
from alongside.scheduler.entrypoints import mappers
from alongside.scheduler.service.change import Change
from alongside.scheduler.service.context import Context, Idem, require_calendar
from alongside.scheduler.service.events import booked, cancelled, completed, no_show, rescheduled
from alongside.scheduler.service.loading import Loaded, booked_from, run_change
from alongside.scheduler.service.rules import check_windows

R = TypeVar("R", bound=Message)

CALLER_REASONS = {
    pb.CANCEL_REASON_PARTICIPANT_REQUEST,
    pb.CANCEL_REASON_PEER_UNAVAILABLE,
    pb.CANCEL_REASON_MATCH_CLOSED,
    pb.CANCEL_REASON_OTHER,
}


def following(scope: int) -> bool:
    if scope not in (pb.SCOPE_UNSPECIFIED, pb.SCOPE_THIS, pb.SCOPE_THIS_AND_FOLLOWING):
        raise InvalidArgument("scope", "is not a known scope")
    return scope == pb.SCOPE_THIS_AND_FOLLOWING


def reason_in(value: int) -> str:
    if value not in CALLER_REASONS:
        raise InvalidArgument("reason", "is missing or not a reason a caller may give")
    return pb.CancelReason.Name(value).removeprefix("CANCEL_REASON_")


def sessions_reply(sessions: list[Session], tz: str) -> list[pb.Session]:
    return [mappers.session_out(s, tz) for s in sessions]


class Changes:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def _change(self, loaded: Loaded, now: datetime) -> Change:
        change = Change(self.ctx, loaded.peer_id, zone(loaded.tz), now)
        change.guard_session(loaded.session.id, loaded.raw)
        if loaded.series is not None and loaded.series_raw is not None:
            change.guard_series(loaded.series.id, loaded.series_raw)
        return change

    async def reschedule(self, req: pb.RescheduleSessionRequest) -> pb.RescheduleSessionResponse:
        idem = Idem.of(peer_of(req.session_id), "RescheduleSession", req.idempotency_key, req)
        start = mappers.future(mappers.ts_in(req, "new_start"), self.ctx.clock(), "new_start")
        whole_rest = following(req.scope)

        async def plan(loaded: Loaded, now: datetime) -> tuple[Change, list[Session]]:
            calendar = require_calendar(loaded.calendar)
            session = loaded.session
            after = lifecycle.reschedule(
                session, start=start, now=now, notice=self.ctx.policy.notice, staff_override=req.override_notice
            )
            if loaded.series is not None and whole_rest:
                return await self._move_following(loaded, start, now)
            check_windows(self.ctx, calendar, None, [after], now)
            change = self._change(loaded, now)
            change.guard_calendar(calendar)
            if loaded.series is not None and session.occurrence_index is not None:
                change.put_series(move_occurrence(loaded.series, session.occurrence_index, start))
            change.replace(session, after)
            change.emit(rescheduled(session, after))
            return change, [after]

        def respond(sessions: list[Session], tz: str) -> pb.RescheduleSessionResponse:
            return pb.RescheduleSessionResponse(sessions=sessions_reply(sessions, tz))

        return await run_change(self.ctx, idem, req.session_id, pb.RescheduleSessionResponse, plan, respond)

    async def _move_following(self, loaded: Loaded, start: datetime, now: datetime) -> tuple[Change, list[Session]]:
        series, index = loaded.series, loaded.session.occurrence_index
        assert series is not None and index is not None and loaded.calendar is not None
        series_zone = zone(series.tz)
        if not tzx.expressible_as_wall_time(start, series_zone):
            raise InvalidArgument("new_start", "a weekly series cannot start in the repeated hour's second pass")
        old, new = split(series, index, new_series_id(loaded.peer_id), tzx.local_of(start, series_zone))
        fresh = to_sessions(new)
        check_windows(self.ctx, loaded.calendar, None, fresh, now)
        change = self._change(loaded, now)
        change.guard_calendar(loaded.calendar)
        change.put_series(old)
        change.put_series(new)
        for session, raw in await booked_from(self.ctx, loaded, index):
            change.guard_session(session.id, raw)
            gone = lifecycle.cancel(
                session, reason="RESCHEDULED", now=now, notice=self.ctx.policy.notice, staff_override=True
            )
            change.replace(session, gone)
            change.emit(cancelled(gone))
        for session in fresh:
            change.add(session)
            change.emit(booked(session))
        return change, fresh

    async def cancel(self, req: pb.CancelSessionRequest) -> pb.CancelSessionResponse:
        idem = Idem.of(peer_of(req.session_id), "CancelSession", req.idempotency_key, req)
        reason = reason_in(req.reason)
        whole_rest = following(req.scope)

        async def plan(loaded: Loaded, now: datetime) -> tuple[Change, list[Session]]:
            session = loaded.session
            notice = self.ctx.policy.notice
            first = lifecycle.cancel(session, reason=reason, now=now, notice=notice, staff_override=req.override_notice)
            change = self._change(loaded, now)
            targets = [(session, loaded.raw)]
            if loaded.series is not None and session.occurrence_index is not None:
                index = session.occurrence_index
                if whole_rest:
                    change.put_series(truncate(loaded.series, index))
                    targets = await booked_from(self.ctx, loaded, index)
                else:
                    change.put_series(cancel_occurrence(loaded.series, index))
            done = []
            for target, raw in targets:
                change.guard_session(target.id, raw)
                # Later occurrences lie further out than the one the notice rule accepted.
                after = (
                    first
                    if target.id == session.id
                    else lifecycle.cancel(target, reason=reason, now=now, notice=notice, staff_override=True)
                )
                change.replace(target, after)
                change.emit(cancelled(after))
                done.append(after)
            return change, done

        def respond(sessions: list[Session], tz: str) -> pb.CancelSessionResponse:
            return pb.CancelSessionResponse(sessions=sessions_reply(sessions, tz))

        return await run_change(self.ctx, idem, req.session_id, pb.CancelSessionResponse, plan, respond)

    async def mark_attended(self, req: pb.MarkAttendedRequest) -> pb.MarkAttendedResponse:
        return await self._mark(req, "MarkAttended", lifecycle.mark_attended, completed, pb.MarkAttendedResponse)

    async def mark_no_show(self, req: pb.MarkNoShowRequest) -> pb.MarkNoShowResponse:
        return await self._mark(req, "MarkNoShow", lifecycle.mark_no_show, no_show, pb.MarkNoShowResponse)

    async def _mark(
        self,
        req: Any,
        rpc: str,
        transition: Callable[[Session, datetime], Session],
        event: Callable[[Session], Event],
        reply: type[R],
    ) -> R:
        """Record what happened to one session (attended, no-show) and say so."""
        idem = Idem.of(peer_of(req.session_id), rpc, req.idempotency_key, req)

        async def plan(loaded: Loaded, now: datetime) -> tuple[Change, list[Session]]:
            after = transition(loaded.session, now)
            change = self._change(loaded, now)
            change.replace(loaded.session, after)
            change.emit(event(after))
            return change, [after]

        def respond(sessions: list[Session], tz: str) -> R:
            return reply(session=mappers.session_out(sessions[0], tz))

        return await run_change(self.ctx, idem, req.session_id, reply, plan, respond)
