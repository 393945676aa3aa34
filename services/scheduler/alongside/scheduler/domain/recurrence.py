"""Weekly series, expanded in local time.

A series is a naive local first start plus a zone; occurrence *i* is the
same wall time *i* weeks later, so a 10:00 series stays at 10:00 when the
clocks change and its UTC offset moves instead. An occurrence whose wall
time falls in a spring-forward gap is read the RFC 5545 way (shifted by the
gap: 02:30 becomes 03:30) and flagged ``shifted``, so the feed's RRULE and
the scheduler name the same instant.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from alongside.kit.errors import InvalidArgument

from . import tz as tzx
from . import validation as v
from .model import Interval

MAX_OCCURRENCES = 104  # two years of weekly sessions
WEEK = timedelta(weeks=1)


class SeriesStatus(enum.StrEnum):
    ACTIVE = "ACTIVE"
    CANCELLED = "CANCELLED"


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One instance. ``original_start`` is where the rule put it (RECURRENCE-ID)."""

    index: int
    original_start: datetime
    interval: Interval
    shifted: bool = False
    moved: bool = False


@dataclass(frozen=True, slots=True)
class Override:
    """One occurrence moved to a different time."""

    index: int
    interval: Interval


@dataclass(frozen=True, slots=True)
class Series:
    """A weekly series by ``count`` or ``until`` (a local date, inclusive)."""

    id: str
    peer_id: str
    participant_ref: str
    tz: str
    first_start_local: datetime
    duration: timedelta
    count: int | None = None
    until: date | None = None
    cancelled: frozenset[int] = frozenset()
    overrides: tuple[Override, ...] = ()
    sequence: int = 0
    status: SeriesStatus = SeriesStatus.ACTIVE
    session_type: str = "follow_up"
    match_id: str | None = None
    participant_tz: str | None = None

    def __post_init__(self) -> None:
        v.require_text(self.id, "series.id")
        _check_rule(self.first_start_local, self.tz, self.duration, self.count, self.until)

    def occurrences(self) -> list[Occurrence]:
        """Live occurrences: cancelled ones left out, moved ones at their new time."""
        if self.status is SeriesStatus.CANCELLED:
            return []
        moved = {o.index: o.interval for o in self.overrides}
        raw = expand_series(self.first_start_local, self.tz, self.duration, self.count, self.until, self.cancelled)
        return [
            Occurrence(o.index, o.original_start, moved[o.index], o.shifted, True) if o.index in moved else o
            for o in raw
        ]

    def raw_occurrences(self) -> list[Occurrence]:
        """Every occurrence the rule generates, ignoring exceptions."""
        return expand_series(self.first_start_local, self.tz, self.duration, self.count, self.until)


def expand_series(
    first_start_local: datetime,
    tz_name: str,
    duration: timedelta,
    count: int | None = None,
    until: date | None = None,
    exceptions: frozenset[int] = frozenset(),
) -> list[Occurrence]:
    """Occurrences of a weekly rule, minus the ``exceptions`` indexes."""
    _check_rule(first_start_local, tz_name, duration, count, until)
    zone = v.zone(tz_name, "time_zone")
    out: list[Occurrence] = []
    for index in range(count or MAX_OCCURRENCES):
        local = first_start_local + index * WEEK
        if until is not None and local.date() > until:
            break
        if index in exceptions:
            continue
        start = tzx.to_utc(local, zone)
        out.append(Occurrence(index, start, Interval(start, start + duration), not tzx.exists(local, zone)))
    return out


def _check_rule(first: datetime, tz_name: str, duration: timedelta, count: int | None, until: date | None) -> None:
    """One of count/until; a real, naive first start; a sane length."""
    zone = v.zone(tz_name, "time_zone")
    v.require_duration(duration, "duration")
    if first.tzinfo is not None:
        raise InvalidArgument("first_start_local", "must be a local wall time without offset")
    if not tzx.exists(first, zone):
        raise InvalidArgument("first_start_local", "falls in a daylight-saving gap")
    if (count is None) == (until is None):
        raise InvalidArgument("count", "give exactly one of count or until")
    if count is not None and not 1 <= count <= MAX_OCCURRENCES:
        raise InvalidArgument("count", f"must be between 1 and {MAX_OCCURRENCES}")
    if until is not None and until < first.date():
        raise InvalidArgument("until", "must not be before the first occurrence")
    if until is not None and until > (first + (MAX_OCCURRENCES - 1) * WEEK).date():
        raise InvalidArgument("until", f"allows at most {MAX_OCCURRENCES} occurrences")
