"""Clock changes over an engagement: the offset regimes of a few time zones.

A weekly arrangement between people in two zones holds for the whole
engagement only if it holds in every *regime*: every stretch of time in
which neither zone changes its UTC offset. Chicago and Phoenix have two
regimes between December and June (Phoenix keeps its offset, Chicago moves
on the second Sunday of March); New York and London have three in spring,
as their changes fall weeks apart.

The matcher checks one week of slots per regime (and per week holding a
change) and explains the overlap per regime; the scheduler names the
change that breaks a weekly series; both take the changes from here. Pure:
no I/O, only ``zoneinfo``.

zoneinfo does not expose its transition table, so changes are found by
reading the offset every ``STEP`` and halving each step where it differs
down to the second. No zone changes its offset twice within six hours.
Results are cached per zone, start day and horizon.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from itertools import pairwise
from zoneinfo import ZoneInfo

STEP = timedelta(hours=6)
DAY = timedelta(days=1)


@dataclass(frozen=True)
class Regime:
    """``[start, end)`` in UTC, with each zone's offset (minutes east of UTC) throughout."""

    start: datetime
    end: datetime
    offsets: tuple[int, ...]


def offset_minutes(time_zone: str, instant: datetime) -> int:
    """The zone's UTC offset at ``instant`` (aware), in minutes east of UTC."""
    offset = instant.astimezone(ZoneInfo(time_zone)).utcoffset()
    return 0 if offset is None else int(offset.total_seconds()) // 60


def offset_changes(time_zone: str, start: datetime, end: datetime) -> tuple[datetime, ...]:
    """UTC instants in ``(start, end)`` from which the zone's offset differs from just before."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must carry a time zone")
    day = start.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    days = -(-(end - day) // DAY)
    return tuple(c for c in _changes(time_zone, day, days) if start < c < end)


@lru_cache(maxsize=4096)
def _changes(time_zone: str, day: datetime, days: int) -> tuple[datetime, ...]:
    zone = ZoneInfo(time_zone)
    found = []
    low, stop = day, day + days * DAY
    before = low.astimezone(zone).utcoffset()
    while low < stop:
        high = low + STEP
        after = high.astimezone(zone).utcoffset()
        if after != before:
            found.append(_bisect(zone, low, high, after))
        low, before = high, after
    return tuple(found)


def _bisect(zone: ZoneInfo, low: datetime, high: datetime, after: timedelta | None) -> datetime:
    """The first second at or before ``high`` and after ``low`` whose offset is ``after``."""
    lo, hi = int(low.timestamp()), int(high.timestamp())
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if datetime.fromtimestamp(mid, zone).utcoffset() == after:
            hi = mid
        else:
            lo = mid
    return datetime.fromtimestamp(hi, UTC)


def regimes(zones: Sequence[str], start: datetime, horizon: timedelta) -> tuple[Regime, ...]:
    """The stretches of ``[start, start + horizon)`` in which no zone of ``zones`` changes offset.

    Always at least one regime: with a zero horizon, the offsets in force at
    ``start``. Cached: callers ask for the same day's regimes again and again.
    """
    return _regimes(tuple(zones), start, horizon)


@lru_cache(maxsize=4096)
def _regimes(zones: tuple[str, ...], start: datetime, horizon: timedelta) -> tuple[Regime, ...]:
    end = start + horizon
    cuts = sorted({c for z in zones for c in offset_changes(z, start, end)})
    bounds = [start, *cuts, max(end, start)]
    out: list[Regime] = []
    for lo, hi in pairwise(bounds):
        offsets = tuple(offset_minutes(z, lo) for z in zones)
        if out and out[-1].offsets == offsets:
            out[-1] = Regime(out[-1].start, hi, offsets)
        else:
            out.append(Regime(lo, hi, offsets))
    return tuple(out)
