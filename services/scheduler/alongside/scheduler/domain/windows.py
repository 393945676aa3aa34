"""Weekly local windows -> concrete UTC intervals over a horizon."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from . import tz as tzx
from . import validation as v
from .intervals import clip
from .model import Availability, Interval, WeeklyWindow


def expand_windows(windows: Iterable[WeeklyWindow], tz_name: str, start: datetime, end: datetime) -> list[Interval]:
    """UTC intervals covered by ``windows`` (local to ``tz_name``) within [start, end).

    Edges are converted with ``tz.to_utc_clamped``: on a spring-forward day
    a window 01:00-04:00 covers two real hours, never the missing one, and a
    window edge that falls in the gap is pulled to the transition. In the
    repeated hour edges mean the first pass, so a window 00:00-04:00 on a
    fall-back day covers five real hours. Adjacent windows (23:00-24:00 and
    next day 00:00-01:00) come back merged.
    """
    v.require_aware(start, "start")
    v.require_aware(end, "end")
    v.require_order(start, end, "horizon")
    zone = v.zone(tz_name, "time_zone")
    by_day: dict[int, list[WeeklyWindow]] = {}
    for window in windows:
        by_day.setdefault(window.day, []).append(window)
    pieces = [
        piece
        for day in _local_days(start, end, zone)
        for window in by_day.get(day.weekday(), ())
        for piece in _window_on(window, day, zone)
    ]
    return clip(pieces, Interval(start, end))


def _local_days(start: datetime, end: datetime, zone: ZoneInfo) -> Iterator[date]:
    """Every local date the horizon touches, with a day's margin for edges."""
    day = tzx.local_of(start, zone).date() - timedelta(days=1)
    last = tzx.local_of(end, zone).date()
    while day <= last:
        yield day
        day += timedelta(days=1)


def _window_on(window: WeeklyWindow, day: date, zone: ZoneInfo) -> list[Interval]:
    midnight = datetime(day.year, day.month, day.day)
    begin = tzx.to_utc_clamped(midnight + timedelta(minutes=window.start_min), zone)
    finish = tzx.to_utc_clamped(midnight + timedelta(minutes=window.end_min), zone)
    # A window lying wholly inside a gap collapses to nothing.
    return [Interval(begin, finish)] if begin < finish else []


def covers(who: Availability, slot: Interval) -> bool:
    """True if ``slot`` lies inside one stretch of ``who``'s windows.

    Same answer as expanding the windows over the slot itself, but the
    expansion of the days around the slot is cached: booking checks the
    same few days of the same people over and over.
    """
    day = tzx.local_of(slot.start, v.zone(who.tz, "time_zone")).date()
    return any(piece.start <= slot.start and slot.end <= piece.end for piece in _days_around(who, day))


@lru_cache(maxsize=4096)
def _days_around(who: Availability, day: date) -> tuple[Interval, ...]:
    """Merged windows over the local day before, of and after ``day`` (a slot lasts at most 8 hours)."""
    zone = v.zone(who.tz, "time_zone")
    begin = tzx.to_utc_clamped(datetime(day.year, day.month, day.day) - timedelta(days=1), zone)
    end = tzx.to_utc_clamped(datetime(day.year, day.month, day.day) + timedelta(days=2), zone)
    return tuple(expand_windows(who.windows, who.tz, begin, end))
