"""FindSlots: the earliest start times that both people can make.

Everything is computed on UTC instants cut from the two people's expanded
windows, so a slot can never start or end at a local wall time that does
not exist: such a wall time has no instant to begin with.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import islice
from zoneinfo import ZoneInfo

from alongside.kit.errors import InvalidArgument

from . import tz as tzx
from . import validation as v
from .intervals import intersect, merge, subtract
from .model import Availability, Interval, Policy
from .windows import expand_windows


@dataclass(frozen=True, slots=True)
class SlotQuery:
    """Everything FindSlots needs; all instants UTC-aware.

    ``bookings`` are the peer's live sessions: they block with the buffer
    and count towards the daily cap. ``busy`` blocks with the buffer but
    does not count (for example the participant's other sessions).
    ``time_off`` blocks without a buffer. ``participant`` None means the
    participant did not restrict their times. ``earliest`` is the first
    bookable instant; ``policy_query`` derives it from ``now`` and the
    policy's minimum lead time.
    """

    peer: Availability
    participant: Availability | None
    duration: timedelta
    earliest: datetime
    horizon_end: datetime
    buffer: timedelta = timedelta(0)
    step: timedelta = timedelta(minutes=15)
    daily_cap: int | None = None
    bookings: tuple[Interval, ...] = ()
    busy: tuple[Interval, ...] = ()
    time_off: tuple[Interval, ...] = ()

    def __post_init__(self) -> None:
        v.require_duration(self.duration, "duration")
        v.require_aware(self.earliest, "earliest")
        v.require_aware(self.horizon_end, "horizon_end")
        v.require_order(self.earliest, self.horizon_end, "horizon_end")
        v.require_non_negative(self.buffer, "buffer")
        if self.step <= timedelta(0):
            raise InvalidArgument("step", "must be positive")
        if self.daily_cap is not None:
            v.require_positive(self.daily_cap, "daily_cap")


def policy_query(
    *,
    peer: Availability,
    participant: Availability | None,
    duration: timedelta,
    now: datetime,
    policy: Policy,
    bookings: tuple[Interval, ...] = (),
    busy: tuple[Interval, ...] = (),
    time_off: tuple[Interval, ...] = (),
    not_before: datetime | None = None,
) -> SlotQuery:
    """A query under a programme's policy: lead time, horizon, buffer, step, cap."""
    v.require_aware(now, "now")
    earliest = max(now + policy.min_lead, not_before or now)
    return SlotQuery(
        peer=peer,
        participant=participant,
        duration=duration,
        earliest=earliest,
        horizon_end=now + policy.horizon,
        buffer=policy.buffer,
        step=policy.step,
        daily_cap=policy.max_sessions_per_day,
        bookings=bookings,
        busy=busy,
        time_off=time_off,
    )


def find_slots(query: SlotQuery, limit: int = 10) -> list[Interval]:
    """The ``limit`` earliest feasible slots, earliest first.

    Slots are alternatives, so they may overlap one another (10:00, 10:15...).
    """
    v.require_positive(limit, "limit")
    return list(islice(iter_slots(query), limit))


def iter_slots(query: SlotQuery) -> Iterator[Interval]:
    """Every feasible slot in time order, lazily."""
    zone = v.zone(query.peer.tz, "peer.time_zone")
    full = capped_days(query, zone)
    for piece in free_time(query):
        start = align_up(piece.start, query.step, zone)
        while start + query.duration <= piece.end:
            if tzx.local_of(start, zone).date() not in full:
                yield Interval(start, start + query.duration)
            start += query.step


def shared_windows(query: SlotQuery) -> list[Interval]:
    """Where both people's weekly windows overlap within the horizon."""
    peer = expand_windows(query.peer.windows, query.peer.tz, query.earliest, query.horizon_end)
    if query.participant is None:
        return peer
    other = query.participant
    return intersect(peer, expand_windows(other.windows, other.tz, query.earliest, query.horizon_end))


def blocked(query: SlotQuery) -> list[Interval]:
    """Bookings and busy time grown by the buffer, plus time off."""
    grown = [item.padded(query.buffer) for item in (*query.bookings, *query.busy)]
    return merge([*grown, *query.time_off])


def free_time(query: SlotQuery) -> list[Interval]:
    """Shared windows minus everything blocked."""
    return subtract(shared_windows(query), blocked(query))


def capped_days(query: SlotQuery, zone: ZoneInfo) -> set[date]:
    """Peer-local dates whose existing bookings already reach the cap."""
    if query.daily_cap is None:
        return set()
    counts: dict[date, int] = {}
    for booking in query.bookings:
        day = tzx.local_of(booking.start, zone).date()
        counts[day] = counts.get(day, 0) + 1
    return {day for day, count in counts.items() if count >= query.daily_cap}


def align_up(instant: datetime, step: timedelta, zone: ZoneInfo) -> datetime:
    """Round up onto the step grid of the peer's local clock (10:00, 10:15...).

    Aligning to local rather than UTC midnight keeps round times in zones
    with half-hour offsets.
    """
    local = tzx.local_of(instant, zone)
    since_midnight = local - local.replace(hour=0, minute=0, second=0, microsecond=0)
    remainder = since_midnight % step
    return instant if not remainder else instant + (step - remainder)
