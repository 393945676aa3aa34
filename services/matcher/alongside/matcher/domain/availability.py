"""Weekly availability as UTC slot sets, for vectorised overlap checks.

A week is 672 slots of 15 minutes, counted from Monday 00:00 UTC. Every
IANA offset in use is a multiple of 15 minutes, so the grid loses nothing
to time zones.

Clock changes: a party's week is built for one UTC offset, the offset of
one *regime* (a stretch in which neither zone changes its clocks; see
``alongside.kit.clock_changes``). The roster index builds one week per
regime of the engagement horizon and a pair must overlap in every one, so
a match that works in December but not after the second Sunday of March is
never offered. A window that crosses the week's end wraps to its start, as
a weekly routine does.

Windows that do not start or end on a quarter hour are rounded inwards, so
overlap is never overstated.

One party's week is a Python int (bit i = slot i): setting spans and finding
runs are a few big-int operations. The roster's weeks are a (words x peers)
uint64 matrix, so one participant is compared with every peer at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

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
def participant_week(windows: tuple[WeeklyWindow, ...], offset: int, length: int) -> Mine:
    """Cached: a participant's week is prepared once per request shape and offset."""
    bits = slot_bits(windows, offset)
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
