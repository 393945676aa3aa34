"""Weekly availability as UTC slot sets, for vectorised overlap checks.

A week is 672 slots of 15 minutes, counted from Monday 00:00 UTC. Every
IANA offset in use is a multiple of 15 minutes, so the grid loses nothing
to time zones.

Clock changes: a party's week follows a *plan*, the zone's UTC offsets
over one calendar week (``week_plan``: one piece in most weeks, two in a
week with a clock change, found by ``alongside.kit.clock_changes``). Each
local window is placed at the offset in force at its slots, so on a change
day a window 01:00-04:00 covers the two or four real hours it has. The
roster index builds one week per distinct plan over the engagement horizon
and a pair must overlap in every one, so a match that works in December but
not after the second Sunday of March is never offered. A window that
crosses the week's end wraps to its start, as a weekly routine does.

Windows that do not start or end on a quarter hour are rounded inwards, so
overlap is never overstated.

One party's week is a Python int (bit i = slot i): setting spans and finding
runs are a few big-int operations. The roster's weeks are a (words x peers)
uint64 matrix, so one participant is compared with every peer at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from alongside.kit.clock_changes import offset_changes, offset_minutes
from alongside.kit.errors import InvalidArgument
from alongside.matcher.domain.model import WeeklyWindow

SLOT_MINUTES = 15
MINUTES_PER_DAY = 24 * 60
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY
SLOTS_PER_WEEK = MINUTES_PER_WEEK // SLOT_MINUTES
# 672 slots packed into 64-bit words (bit i of word w is slot 64w + i), the tail zero.
WORDS = -(-SLOTS_PER_WEEK // 64)

BoolArray = npt.NDArray[np.bool_]
Words = npt.NDArray[np.uint64]
Indices = npt.NDArray[np.intp]
FULL_WEEK = (1 << SLOTS_PER_WEEK) - 1
ONE_WEEK = timedelta(weeks=1)
SLOT = timedelta(minutes=SLOT_MINUTES)
# A zone's offsets over one UTC week: (offset in minutes east, first slot, end slot) pieces in time order.
Plan = tuple[tuple[int, int, int], ...]


def week_start(now: datetime) -> datetime:
    """Monday 00:00 UTC of the week containing ``now`` (which must be aware)."""
    if now.tzinfo is None:
        raise InvalidArgument("now", "must carry a time zone")
    utc = now.astimezone(UTC)
    monday = utc - timedelta(days=utc.weekday())
    return monday.replace(hour=0, minute=0, second=0, microsecond=0)


def horizon_weeks(now: datetime, horizon: timedelta) -> tuple[datetime, ...]:
    """Monday 00:00 UTC of every calendar week the horizon from the start of
    ``now``'s UTC day touches; only the week of today when ``horizon`` is zero."""
    day = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    week, last = week_start(day), week_start(day + max(horizon - timedelta(seconds=1), timedelta(0)))
    weeks = []
    while week <= last:
        weeks.append(week)
        week += ONE_WEEK
    return tuple(weeks)


@lru_cache(maxsize=16384)
def week_plan(time_zone: str, week: datetime) -> Plan:
    """The zone's offsets over the UTC week from ``week``; a slot takes the offset in force at its start."""
    bounds = [week, *offset_changes(time_zone, week, week + ONE_WEEK), week + ONE_WEEK]
    slots = [-(-(b - week) // SLOT) for b in bounds]
    return tuple(
        (offset_minutes(time_zone, lo), first, end)
        for lo, first, end in zip(bounds, slots, slots[1:], strict=False)
        if end > first
    )


@lru_cache(maxsize=65536)
def plan_bits(windows: tuple[WeeklyWindow, ...], plan: Plan) -> int:
    """Slots covered by ``windows`` in a week that follows ``plan``."""
    if len(plan) == 1:
        return slot_bits(windows, plan[0][0])
    bits = 0
    for offset, first, end in plan:
        bits |= slot_bits(windows, offset) & (((1 << (end - first)) - 1) << first)
    return bits


def session_slots(minutes: int) -> int:
    """Whole slots a session needs: a 50-minute session needs four."""
    return -(-minutes // SLOT_MINUTES)


def utc_spans(window: WeeklyWindow, offset: int) -> list[tuple[int, int]]:
    """The window as UTC minute-of-week spans ``[start, end)`` at ``offset`` (minutes east), split at the wrap."""
    base = window.day * MINUTES_PER_DAY
    start, length = (base + window.start_minute - offset) % MINUTES_PER_WEEK, window.end_minute - window.start_minute
    if length <= 0:
        return []
    if start + length <= MINUTES_PER_WEEK:
        return [(start, start + length)]
    return [(start, MINUTES_PER_WEEK), (0, start + length - MINUTES_PER_WEEK)]


def _span_bits(start: int, end: int) -> int:
    first, last = -(-start // SLOT_MINUTES), end // SLOT_MINUTES
    return ((1 << (last - first)) - 1) << first if last > first else 0


@lru_cache(maxsize=65536)
def slot_bits(windows: tuple[WeeklyWindow, ...], offset: int) -> int:
    """Slots covered by ``windows`` in a UTC week at ``offset`` minutes east of UTC: bit i is slot i."""
    bits = 0
    for window in windows:
        for start, end in utc_spans(window, offset):
            bits |= _span_bits(start, end)
    return bits


def run_starts(bits: int, length: int) -> int:
    """Slots that begin ``length`` consecutive free slots, wrapping at week end.

    Two parties share a contiguous stretch of ``length`` slots exactly when
    their run-start sets intersect, which turns the stretch test into one AND.
    """
    doubled = bits | (bits << SLOTS_PER_WEEK)
    run = doubled
    for shift in range(1, length):
        run &= doubled >> shift
    return run & FULL_WEEK


def to_words(bits: int) -> Words:
    """One slot set as ``WORDS`` little-endian uint64 words (read-only)."""
    return np.frombuffer(bits.to_bytes(WORDS * 8, "little"), dtype="<u8").astype(np.uint64, copy=False)


def to_columns(bit_sets: list[int]) -> Words:
    """Many slot sets as a (WORDS, n) matrix: one contiguous row per word."""
    raw = b"".join(bits.to_bytes(WORDS * 8, "little") for bits in bit_sets)
    matrix = np.frombuffer(raw, dtype="<u8").reshape(len(bit_sets), WORDS).T
    return np.ascontiguousarray(matrix, dtype=np.uint64)


@dataclass(frozen=True)
class Mine:
    """A participant's week: its slot bits, and the non-empty words of its slots and run starts.

    ``words`` is a column holding word ``used[i]`` in row ``i``, ready to AND
    with those rows of the roster's (WORDS, peers) matrix; likewise
    ``run_words`` for ``run_used``.
    """

    bits: int
    used: Indices
    words: Words
    run_used: Indices
    run_words: Words
    free_slots: int


@lru_cache(maxsize=8192)
def participant_week(windows: tuple[WeeklyWindow, ...], plan: Plan, length: int) -> Mine:
    """Cached: a participant's week is prepared once per request shape and plan."""
    bits = plan_bits(windows, plan)
    used, words = _used_words(bits)
    run_used, run_words = _used_words(run_starts(bits, length))
    return Mine(bits, used, words, run_used, run_words, bits.bit_count())


def _used_words(bits: int) -> tuple[Indices, Words]:
    """Which words of ``bits`` are non-empty, and those words as a column (both read-only)."""
    words = to_words(bits)
    used = np.flatnonzero(words)
    column = words[used].reshape(-1, 1)
    used.setflags(write=False)
    column.setflags(write=False)
    return used, column
