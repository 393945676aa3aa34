"""Value objects of the scheduler: windows, intervals, policy and sessions.

Instants are UTC-aware datetimes. Local wall times appear only in weekly
windows (minutes since local midnight) and in a series' first start, and are
always paired with an IANA zone name.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from alongside.kit.errors import InvalidArgument

from . import validation as v

MINUTES_PER_DAY = 24 * 60


@dataclass(frozen=True, slots=True)
class WeeklyWindow:
    """A recurring local availability window: ``day`` 0=Mon..6=Sun.

    ``end_min`` may be 1440 (midnight at the end of the day). A window that
    crosses midnight is two windows.
    """

    day: int
    start_min: int
    end_min: int

    def __post_init__(self) -> None:
        if not 0 <= self.day <= 6:
            raise InvalidArgument("window.day", "must be 0 (Monday) to 6 (Sunday)")
        if not 0 <= self.start_min < MINUTES_PER_DAY or self.end_min > MINUTES_PER_DAY:
            raise InvalidArgument("window", "minutes must lie within one day")
        if self.end_min <= self.start_min:
            raise InvalidArgument("window.end_min", "end must be after start")


@dataclass(frozen=True, slots=True)
class Interval:
    """A half-open span [start, end) of UTC instants."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        v.require_aware(self.start, "interval.start")
        v.require_aware(self.end, "interval.end")
        v.require_order(self.start, self.end, "interval")
        if self.start.tzinfo is not UTC:
            object.__setattr__(self, "start", self.start.astimezone(UTC))
        if self.end.tzinfo is not UTC:
            object.__setattr__(self, "end", self.end.astimezone(UTC))

    @property
    def duration(self) -> timedelta:
        return self.end - self.start

    def overlaps(self, other: Interval) -> bool:
        """Half-open: intervals that only touch do not overlap."""
        return self.start < other.end and other.start < self.end

    def padded(self, pad: timedelta) -> Interval:
        return Interval(self.start - pad, self.end + pad)


@dataclass(frozen=True, slots=True)
class Availability:
    """Someone's weekly windows in their own zone."""

    windows: tuple[WeeklyWindow, ...]
    tz: str

    def __post_init__(self) -> None:
        v.zone(self.tz, "time_zone")


@dataclass(frozen=True, slots=True)
class SessionType:
    name: str
    minutes: int

    def __post_init__(self) -> None:
        v.require_text(self.name, "session_type.name")
        v.require_duration(timedelta(minutes=self.minutes), "session_type.minutes")

    @property
    def duration(self) -> timedelta:
        return timedelta(minutes=self.minutes)


DEFAULT_TYPES = (
    SessionType("intake", 60),
    SessionType("follow_up", 45),
    SessionType("check_in", 30),
)


class SessionStatus(enum.StrEnum):
    BOOKED = "BOOKED"
    CANCELLED = "CANCELLED"
    ATTENDED = "ATTENDED"
    NO_SHOW = "NO_SHOW"


class Urgency(enum.StrEnum):
    ROUTINE = "ROUTINE"
    URGENT = "URGENT"


@dataclass(frozen=True, slots=True)
class Policy:
    """A programme's scheduling rules; every field is configurable."""

    buffer: timedelta = timedelta(minutes=15)
    max_sessions_per_day: int = 4
    notice: timedelta = timedelta(hours=24)
    reminder_offsets: tuple[timedelta, ...] = (timedelta(hours=24), timedelta(hours=1))
    horizon: timedelta = timedelta(days=28)
    min_lead: timedelta = timedelta(hours=2)
    step: timedelta = timedelta(minutes=15)
    urgent_target: timedelta = timedelta(hours=48)
    session_types: tuple[SessionType, ...] = field(default=DEFAULT_TYPES)

    def __post_init__(self) -> None:
        v.require_non_negative(self.buffer, "policy.buffer")
        v.require_positive(self.max_sessions_per_day, "policy.max_sessions_per_day")
        v.require_non_negative(self.notice, "policy.notice")
        v.require_non_negative(self.min_lead, "policy.min_lead")
        for offset in self.reminder_offsets:
            v.require_non_negative(offset, "policy.reminder_offsets")
        if self.step <= timedelta(0) or self.horizon <= timedelta(0):
            raise InvalidArgument("policy.step", "step and horizon must be positive")

    def session_type(self, name: str) -> SessionType:
        """Look a configured type up by name."""
        for kind in self.session_types:
            if kind.name == name:
                return kind
        raise InvalidArgument("session_type", "unknown session type")


@dataclass(frozen=True, slots=True)
class Session:
    """One booked meeting. ``participant_ref`` is pseudonymous, never a name."""

    id: str
    peer_id: str
    participant_ref: str
    start: datetime
    end: datetime
    session_type: str = "follow_up"
    status: SessionStatus = SessionStatus.BOOKED
    sequence: int = 0
    series_id: str | None = None
    occurrence_index: int | None = None
    cancel_reason: str | None = None
    # The match the session serves, and the participant's zone (for showing
    # the time in their zone); both optional.
    match_id: str | None = None
    participant_tz: str | None = None

    def __post_init__(self) -> None:
        v.require_text(self.id, "session.id")
        v.require_text(self.peer_id, "session.peer_id")
        slot = Interval(self.start, self.end)
        object.__setattr__(self, "start", slot.start)
        object.__setattr__(self, "end", slot.end)

    @property
    def interval(self) -> Interval:
        return Interval(self.start, self.end)

    @property
    def is_live(self) -> bool:
        """Live sessions occupy the peer's calendar; cancelled ones do not."""
        return self.status is not SessionStatus.CANCELLED

    def with_changes(self, **changes: object) -> Session:
        return replace(self, **changes)  # type: ignore[arg-type]
