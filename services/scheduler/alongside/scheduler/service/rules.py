"""The rules around a booking that the atomic commit does not check itself.

The commit checks overlaps (buffers included), time off and the daily cap
against the calendar as it is at that instant. Lead time, horizons and both
people's weekly windows are pure domain rules, checked here first; and when
the commit refuses, ``refusal`` says why in plain words.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from alongside.kit.errors import FailedPrecondition
from alongside.scheduler.adapters.codec import PeerCalendar
from alongside.scheduler.domain.booking import EXPLANATIONS, Blocker
from alongside.scheduler.domain.model import Availability, Session
from alongside.scheduler.domain.series_fit import first_break
from alongside.scheduler.domain.slots import SlotQuery, policy_query
from alongside.scheduler.service.context import Context

REFUSED = {
    "time_off": "the peer is on time off then",
    "conflict": "it overlaps another session of the peer, buffers included",
    "daily_cap": "the peer's daily session cap is reached that day",
}


class NoSlot(FailedPrecondition):
    """Nothing bookable in the horizon; ``blocker`` names the constraint that emptied it."""

    def __init__(self, blocker: Blocker) -> None:
        super().__init__(f"no slot available: {EXPLANATIONS[blocker]}")
        self.blocker = blocker


async def slot_query(
    ctx: Context,
    calendar: PeerCalendar,
    participant: Availability | None,
    duration: timedelta,
    now: datetime,
    earliest: datetime | None = None,
    horizon_end: datetime | None = None,
) -> SlotQuery | None:
    """The policy's query, narrowed to the caller's window, over the peer's
    current bookings and time off; None when the window leaves no room."""
    base = policy_query(
        peer=calendar.availability, participant=participant, duration=duration, now=now, policy=ctx.policy
    )
    start = max(base.earliest, earliest) if earliest else base.earliest
    stop = min(horizon_end, now + ctx.settings.booking_horizon) if horizon_end else base.horizon_end
    if stop - start < duration:
        return None
    bookings = await ctx.store.booked(calendar.peer_id, start, stop)
    time_off = await ctx.store.time_off(calendar.peer_id)
    return replace(
        base,
        earliest=start,
        horizon_end=stop,
        bookings=tuple(i for _, i in bookings),
        time_off=tuple(time_off.values()),
    )


def check_windows(
    ctx: Context, calendar: PeerCalendar, participant: Availability | None, sessions: list[Session], now: datetime
) -> None:
    """The rules the commit cannot see: lead time, horizon and both people's windows.

    A series that leaves someone's windows after a clock change is refused
    with the occurrence's date and the change's (``domain/series_fit.py``).
    """
    for index, session in enumerate(sessions):
        problem = timing_problem(ctx, session, now, first=index == 0)
        if problem is not None:
            where = f"occurrence {index}" if len(sessions) > 1 else "the slot"
            raise FailedPrecondition(f"{where} is not bookable: {EXPLANATIONS[problem]}")
    broken = first_break(calendar.availability, participant, [s.interval for s in sessions])
    if broken is not None:
        raise FailedPrecondition(broken.explain(len(sessions)))


def timing_problem(ctx: Context, session: Session, now: datetime, *, first: bool = True) -> Blocker | None:
    """Lead time and the booking horizon; a series may run past the horizon."""
    if session.start < now + ctx.policy.min_lead:
        return Blocker.OUTSIDE_HORIZON
    if first and session.start > now + ctx.settings.booking_horizon:
        return Blocker.OUTSIDE_HORIZON
    return None


def refusal(kind: str, index: int, recurring: bool) -> str:
    where = f"occurrence {index}" if recurring else "the slot"
    return f"{where} is not bookable: {REFUSED[kind]}"
