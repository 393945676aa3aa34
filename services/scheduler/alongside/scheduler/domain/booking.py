"""Booking-time checks, auto-booking and the reason a search came back empty.

A slot offered by FindSlots may be gone by the time someone books it, so
``check_slot`` re-runs every rule on the one slot. When nothing fits, the
answer names the constraint that emptied the list rather than returning a
silent empty list.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from alongside.kit.errors import FailedPrecondition

from . import tz as tzx
from . import validation as v
from .intervals import conflicts
from .model import Interval, Urgency
from .slots import SlotQuery, capped_days, find_slots
from .windows import covers


class Blocker(enum.StrEnum):
    OUTSIDE_HORIZON = "OUTSIDE_HORIZON"
    PEER_UNAVAILABLE = "PEER_UNAVAILABLE"
    PARTICIPANT_UNAVAILABLE = "PARTICIPANT_UNAVAILABLE"
    NO_SHARED_WINDOW = "NO_SHARED_WINDOW"
    TIME_OFF = "TIME_OFF"
    CONFLICT = "CONFLICT"
    DAILY_CAP = "DAILY_CAP"


EXPLANATIONS: dict[Blocker, str] = {
    Blocker.OUTSIDE_HORIZON: "the slot is before the earliest bookable time or past the horizon",
    Blocker.PEER_UNAVAILABLE: "the slot is outside the peer's weekly availability",
    Blocker.PARTICIPANT_UNAVAILABLE: "the slot is outside the participant's availability",
    Blocker.NO_SHARED_WINDOW: "the peer's and participant's availability never overlap long enough",
    Blocker.TIME_OFF: "the peer is on time off during all shared availability",
    Blocker.CONFLICT: "the shared availability is fully booked, buffers included",
    Blocker.DAILY_CAP: "the daily session cap is reached on every day with free time",
}


def slot_problem(query: SlotQuery, slot: Interval) -> Blocker | None:
    """The first rule ``slot`` breaks, or None if it is bookable now."""
    if slot.start < query.earliest or slot.end > query.horizon_end:
        return Blocker.OUTSIDE_HORIZON
    if not covers(query.peer, slot):
        return Blocker.PEER_UNAVAILABLE
    if query.participant is not None and not covers(query.participant, slot):
        return Blocker.PARTICIPANT_UNAVAILABLE
    if any(slot.overlaps(off) for off in query.time_off):
        return Blocker.TIME_OFF
    if conflicts(slot, (*query.bookings, *query.busy), query.buffer):
        return Blocker.CONFLICT
    zone = v.zone(query.peer.tz, "peer.time_zone")
    if tzx.local_of(slot.start, zone).date() in capped_days(query, zone):
        return Blocker.DAILY_CAP
    return None


def check_slot(query: SlotQuery, slot: Interval) -> None:
    """Raise FailedPrecondition naming the broken rule (no personal data)."""
    problem = slot_problem(query, slot)
    if problem is not None:
        raise FailedPrecondition(f"slot not bookable: {EXPLANATIONS[problem]}")


def diagnose(query: SlotQuery) -> Blocker | None:
    """Which constraint empties the slot list; None if there are slots.

    Adds the constraints back one at a time (time off, then bookings and
    busy time, then the cap) and names the first that leaves no slot.
    """
    if find_slots(query, limit=1):
        return None
    bare = replace(query, bookings=(), busy=(), time_off=(), daily_cap=None)
    if not find_slots(bare, limit=1):
        return Blocker.NO_SHARED_WINDOW
    if not find_slots(replace(bare, time_off=query.time_off), limit=1):
        return Blocker.TIME_OFF
    if not find_slots(replace(query, daily_cap=None), limit=1):
        return Blocker.CONFLICT
    return Blocker.DAILY_CAP


@dataclass(frozen=True, slots=True)
class AutoBooking:
    """The outcome of auto-booking on match.accepted."""

    slot: Interval | None
    blocker: Blocker | None = None
    urgent_target_met: bool | None = None

    @property
    def reason(self) -> str | None:
        return None if self.blocker is None else EXPLANATIONS[self.blocker]


def auto_book(query: SlotQuery, urgency: Urgency, now: datetime, urgent_target: timedelta) -> AutoBooking:
    """The earliest slot both can make, or "unschedulable" with a reason.

    The earliest slot is by construction the soonest possible, so URGENT
    needs no different search; the result says whether it met the target
    (for example 48 hours) so the service can alert staff when it did not.
    """
    found = find_slots(query, limit=1)
    if not found:
        return AutoBooking(slot=None, blocker=diagnose(query) or Blocker.CONFLICT)
    if urgency is not Urgency.URGENT:
        return AutoBooking(slot=found[0])
    return AutoBooking(slot=found[0], urgent_target_met=found[0].start <= now + urgent_target)
