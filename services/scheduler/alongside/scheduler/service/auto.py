"""The matcher's match events: book the first session, or cancel on close.

``match.accepted`` books the earliest slot both people can make, under the
event id as idempotency key, so a redelivered event books nothing twice.
When nothing fits it publishes ``session.unschedulable`` with a reason code
and keeps the match for the weekly planner. ``match.closed`` cancels the
match's future sessions (reason MATCH_CLOSED) in one atomic write.
"""

from __future__ import annotations

from datetime import UTC, datetime

from alongside.api.matcher.v1 import events_pb2 as matcher_ev
from alongside.api.matcher.v1 import matcher_pb2 as matcher_pb
from alongside.api.scheduler.v1 import scheduler_pb2 as pb
from alongside.kit.errors import FailedPrecondition, InvalidArgument, NotFound
from alongside.kit.events.envelope import Event
from alongside.kit.logging import get_logger
from alongside.kit.uow import Idempotency, Tx
from alongside.scheduler.adapters.codec import decode_series, decode_session
from alongside.scheduler.adapters.keys import require_peer_id
from alongside.scheduler.domain import lifecycle
from alongside.scheduler.domain.booking import Blocker
from alongside.scheduler.domain.model import Session, SessionStatus
from alongside.scheduler.domain.series_edit import truncate
from alongside.scheduler.domain.validation import zone
from alongside.scheduler.service.booking import Booking
from alongside.scheduler.service.change import Change
from alongside.scheduler.service.context import MAX_ATTEMPTS, Context, Idem
from alongside.scheduler.service.events import cancelled, unschedulable
from alongside.scheduler.service.rules import NoSlot

log = get_logger(__name__)
PLAN_TAG = "plan"
ATTEMPTS_TTL_S = 7 * 24 * 3600
REASONS = {
    Blocker.OUTSIDE_HORIZON: "outside_horizon",
    Blocker.PEER_UNAVAILABLE: "peer_unavailable",
    Blocker.PARTICIPANT_UNAVAILABLE: "participant_unavailable",
    Blocker.NO_SHARED_WINDOW: "no_common_availability",
    Blocker.TIME_OFF: "peer_time_off",
    Blocker.CONFLICT: "peer_fully_booked",
    Blocker.DAILY_CAP: "daily_cap_reached",
}


class AvailabilityUnknown(Exception):
    """The peer's windows have not arrived yet; the consumer retries with backoff."""


def plan_item(msg: matcher_ev.MatchAccepted) -> pb.PlanItem:
    urgent = msg.urgency == matcher_pb.URGENCY_URGENT
    return pb.PlanItem(
        match_id=msg.match_id,
        peer_id=msg.peer_id,
        participant_ref=msg.participant_ref,
        urgency=pb.URGENCY_URGENT if urgent else pb.URGENCY_ROUTINE,
        duration_minutes=msg.session_minutes,
        participant_time_zone=msg.participant_time_zone,
        participant_availability=msg.participant_availability,
    )


class MatchEvents:
    def __init__(self, ctx: Context, booking: Booking) -> None:
        self.ctx, self.booking = ctx, booking

    async def accepted(self, event: Event) -> None:
        msg = event.parse(matcher_ev.MatchAccepted)
        peer_id = require_peer_id(msg.peer_id)
        request = pb.BookSessionRequest(
            idempotency_key=event.id,
            peer_id=peer_id,
            participant_ref=msg.participant_ref,
            match_id=msg.match_id,
            session_type=self.ctx.settings.first_session_type,
            duration_minutes=msg.session_minutes,
            participant_time_zone=msg.participant_time_zone,
            participant_availability=msg.participant_availability,
        )
        idem = Idem.of(peer_id, "AutoBook", event.id, request)
        await self._note_intake(peer_id, msg)
        if await self.ctx.store.idem(self.ctx.store.k.idem(PLAN_TAG, "Unschedulable", event.id)):
            return
        if not await self._availability_known(peer_id, event.id):
            await self._unschedulable(event, msg, "peer_availability_unknown")
            return
        try:
            response = await self.booking.book_with(idem, request)
        except NoSlot as exc:
            await self._unschedulable(event, msg, REASONS[exc.blocker])
            return
        except (NotFound, FailedPrecondition):
            await self._unschedulable(event, msg, "peer_not_bookable")
            return
        except InvalidArgument as exc:
            log.warning("autobook.invalid_request", match_id=msg.match_id, field=exc.field)
            await self._unschedulable(event, msg, "invalid_request")
            return
        self._note_urgency(msg, response.session.start.ToDatetime(UTC))

    async def _note_intake(self, peer_id: str, msg: matcher_ev.MatchAccepted) -> None:
        """When the intake was made, for the time to first session (docs/dashboard.md).

        A fact about the match, no personal data; the same value on every
        delivery, so it is written on its own before the booking.
        """
        if msg.HasField("requested_at") and msg.urgency in matcher_pb.Urgency.values():
            urgency = matcher_pb.Urgency.Name(msg.urgency).removeprefix("URGENCY_")
            value = f"{msg.requested_at.ToMilliseconds()}|{urgency}"
            await self.ctx.store.r.hset(self.ctx.store.k.intake(peer_id), msg.match_id, value)

    async def _availability_known(self, peer_id: str, event_id: str) -> bool:
        """True once windows arrived; raises to retry until the limit, then False."""
        calendar = await self.ctx.store.calendar(peer_id)
        if calendar is not None and calendar.known:
            return True
        key = self.ctx.store.k.attempts(event_id)
        attempts = await self.ctx.store.r.incr(key)
        await self.ctx.store.r.expire(key, ATTEMPTS_TTL_S)
        if attempts < self.ctx.settings.availability_retry_limit:
            raise AvailabilityUnknown("peer availability not received yet")
        return False

    def _note_urgency(self, msg: matcher_ev.MatchAccepted, start: datetime) -> None:
        """The earliest slot is the soonest possible; staff hear when it still misses the target."""
        urgent = msg.urgency == matcher_pb.URGENCY_URGENT
        if urgent and start > self.ctx.clock() + self.ctx.policy.urgent_target:
            log.warning("autobook.urgent_target_missed", match_id=msg.match_id, peer_id=msg.peer_id)

    async def _unschedulable(self, event: Event, msg: matcher_ev.MatchAccepted, reason: str) -> None:
        """Publish the reason and keep the match for the planner, once per event."""
        idem = Idempotency.of(PLAN_TAG, "Unschedulable", event.id, event.body)
        item = plan_item(msg).SerializeToString(deterministic=True)

        async def body(tx: Tx) -> bytes:
            tx.begin()
            tx.pipe.hset(self.ctx.store.k.pending, msg.match_id, item)
            tx.emit(PLAN_TAG, unschedulable(msg.match_id, msg.peer_id, reason))
            return b""

        await self.ctx.uow.run(body, idempotency=idem)
        log.info("autobook.unschedulable", match_id=msg.match_id, reason=reason)

    async def closed(self, event: Event) -> None:
        msg = event.parse(matcher_ev.MatchClosed)
        peer_id = require_peer_id(msg.peer_id)
        idem = Idem.of(peer_id, "MatchClosed", event.id, msg)
        for _ in range(MAX_ATTEMPTS):
            change = await self._cancel_future(peer_id, msg.match_id, idem)
            if change is None or (await change.run()).kind in ("ok", "replay"):
                await self.ctx.store.r.hdel(self.ctx.store.k.pending, msg.match_id)
                return
        raise RuntimeError("the peer's calendar kept changing; the event will be retried")

    async def _cancel_future(self, peer_id: str, match_id: str, idem: Idem) -> Change | None:
        store, now = self.ctx.store, self.ctx.clock()
        ids = await store.match_session_ids(peer_id, match_id)
        raws = [raw for raw in await store.sessions_raw(peer_id, ids) if raw is not None]
        future = [(decode_session(raw), raw) for raw in raws]
        future = [(s, raw) for s, raw in future if s.status is SessionStatus.BOOKED and s.start > now]
        if not future:
            return None
        calendar = await store.calendar(peer_id)
        change = Change(self.ctx, peer_id, zone(calendar.tz if calendar and calendar.tz else "UTC"), now)
        await self._truncate_series(change, peer_id, [s for s, _ in future])
        for session, raw in future:
            change.guard_session(session.id, raw)
            gone = lifecycle.cancel(
                session, reason="MATCH_CLOSED", now=now, notice=self.ctx.policy.notice, staff_override=True
            )
            change.replace(session, gone)
            change.emit(cancelled(gone))
        change.finish(idem, pb.CancelSessionResponse())
        return change

    async def _truncate_series(self, change: Change, peer_id: str, sessions: list[Session]) -> None:
        """Each series ends before its first future occurrence."""
        first: dict[str, int] = {}
        for s in sessions:
            if s.series_id is not None and s.occurrence_index is not None:
                first[s.series_id] = min(first.get(s.series_id, s.occurrence_index), s.occurrence_index)
        for series_id, index in first.items():
            raw = await self.ctx.store.series_raw(peer_id, series_id)
            if raw is not None:
                change.guard_series(series_id, raw)
                change.put_series(truncate(decode_series(raw), index))
