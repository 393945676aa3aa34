"""Weekly availability as UTC slot sets, for vectorised overlap checks.

A week is 672 slots of 15 minutes, counted from Monday 00:00 UTC of the week
that contains ``now``. Every IANA offset in use is a multiple of 15 minutes,
so the grid loses nothing to time zones.

DST: each local window is placed on its calendar date in that reference week
and converted with zoneinfo, so the offsets are the ones in force that week.
A participant in New York and a peer in London overlap differently in the
weeks of March when only one of them has changed clocks, and the answer is
right for the week of ``now``. A window that crosses the week's end wraps to
its start, as a weekly routine does. Local times skipped by a spring-forward
change take the offset from before it (zoneinfo's ``fold=0``).

Windows that do not start or end on a quarter hour are rounded inwards, so
overlap is never overstated.

One party's week is a Python int (bit i = slot i): setting spans and finding
runs are a few big-int operations. The roster's weeks are a (words x peers)
uint64 matrix, so one participant is compared with every peer at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

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


def week_start(now: datetime) -> datetime:
    """Monday 00:00 UTC of the week containing ``now`` (which must be aware)."""
    if now.tzinfo is None:
        raise InvalidArgument("now", "must carry a time zone")
    utc = now.astimezone(UTC)
    monday = utc - timedelta(days=utc.weekday())
    return monday.replace(hour=0, minute=0, second=0, microsecond=0)


def session_slots(minutes: int) -> int:
    """Whole slots a session needs: a 50-minute session needs four."""
    return -(-minutes // SLOT_MINUTES)


def _local(week: datetime, day: int, minute: int) -> datetime:
    return datetime.combine(week.date() + timedelta(days=day), time(0)) + timedelta(minutes=minute)


def _utc_minute(local: datetime, zone: ZoneInfo, week: datetime) -> int:
    utc = local.replace(tzinfo=zone).astimezone(UTC)
    return int((utc - week).total_seconds() // 60)


@lru_cache(maxsize=4096)
def _day_offsets(time_zone: str, week: datetime) -> tuple[int | None, ...]:
    """Each local day's UTC offset in minutes, or None if the clocks change that day.

    Most days have one offset, so most windows convert with arithmetic; only
    a changeover day goes through zoneinfo window by window.
    """
    zone = ZoneInfo(time_zone)
    offsets: list[int | None] = []
    for day in range(7):
        start = _utc_minute(_local(week, day, 0), zone, week)
        end = _utc_minute(_local(week, day, MINUTES_PER_DAY), zone, week)
        # A day with a clock change is not 1440 minutes long.
        offsets.append(day * MINUTES_PER_DAY - start if end - start == MINUTES_PER_DAY else None)
    return tuple(offsets)


def utc_spans(window: WeeklyWindow, time_zone: str, week: datetime) -> list[tuple[int, int]]:
    """The window as UTC minute-of-week spans ``[start, end)``, split at the wrap."""
    offset = _day_offsets(time_zone, week)[window.day]
    base = window.day * MINUTES_PER_DAY
    if offset is not None:
        start, end = base + window.start_minute - offset, base + window.end_minute - offset
    else:
        zone = ZoneInfo(time_zone)
        start = _utc_minute(_local(week, window.day, window.start_minute), zone, week)
        end = _utc_minute(_local(week, window.day, window.end_minute), zone, week)
    length = end - start
    if length <= 0:
        return []
    start %= MINUTES_PER_WEEK
    if start + length <= MINUTES_PER_WEEK:
        return [(start, start + length)]
    return [(start, MINUTES_PER_WEEK), (0, start + length - MINUTES_PER_WEEK)]


def _span_bits(start: int, end: int) -> int:
    first, last = -(-start // SLOT_MINUTES), end // SLOT_MINUTES
    return ((1 << (last - first)) - 1) << first if last > first else 0


def slot_bits(windows: tuple[WeeklyWindow, ...], time_zone: str, week: datetime) -> int:
    """Slots covered by ``windows`` in the UTC week from ``week``: bit i is slot i."""
    bits = 0
    for window in windows:
        for start, end in utc_spans(window, time_zone, week):
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
def participant_week(windows: tuple[WeeklyWindow, ...], time_zone: str, week: datetime, length: int) -> Mine:
    """Cached: a participant's week is prepared once per request shape and week."""
    bits = slot_bits(windows, time_zone, week)
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
