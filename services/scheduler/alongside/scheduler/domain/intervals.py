"""Set algebra on sorted UTC intervals, and the double-booking rule.

``conflicts`` is the pure twin of the service layer's atomic Redis check:
both must give the same answer for the same calendar, so the tests here are
the specification that the Lua script mirrors.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import timedelta

from .model import Interval


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sort and join intervals that overlap or touch."""
    merged: list[Interval] = []
    for item in sorted(intervals, key=lambda i: i.start):
        if merged and item.start <= merged[-1].end:
            if item.end > merged[-1].end:
                merged[-1] = Interval(merged[-1].start, item.end)
        else:
            merged.append(item)
    return merged


def intersect(left: Sequence[Interval], right: Sequence[Interval]) -> list[Interval]:
    """Intersection of two merged (sorted, disjoint) lists, by a linear sweep."""
    out: list[Interval] = []
    i = j = 0
    while i < len(left) and j < len(right):
        start = max(left[i].start, right[j].start)
        end = min(left[i].end, right[j].end)
        if start < end:
            out.append(Interval(start, end))
        if left[i].end <= right[j].end:
            i += 1
        else:
            j += 1
    return out


def subtract(base: Sequence[Interval], holes: Sequence[Interval]) -> list[Interval]:
    """``base`` minus ``holes``; both merged (sorted, disjoint)."""
    out: list[Interval] = []
    j = 0
    for piece in base:
        start = piece.start
        while j < len(holes) and holes[j].end <= start:
            j += 1
        k = j
        while k < len(holes) and holes[k].start < piece.end:
            if holes[k].start > start:
                out.append(Interval(start, holes[k].start))
            start = max(start, holes[k].end)
            k += 1
        if start < piece.end:
            out.append(Interval(start, piece.end))
    return out


def conflicts(candidate: Interval, existing: Iterable[Interval], buffer: timedelta) -> bool:
    """True if ``candidate`` comes within ``buffer`` of any existing interval.

    Half-open intervals: with no buffer, back-to-back sessions (one ends as
    the next starts) are fine; with a buffer, the gap must be at least the
    buffer, and a gap of exactly the buffer is allowed.
    """
    return any(candidate.start < other.end + buffer and other.start < candidate.end + buffer for other in existing)


def clip(intervals: Iterable[Interval], bounds: Interval) -> list[Interval]:
    """Merge ``intervals`` and keep only their parts inside ``bounds``."""
    return intersect(merge(intervals), [bounds])
