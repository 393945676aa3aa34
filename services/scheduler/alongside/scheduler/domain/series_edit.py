"""Changing a series: one occurrence, or this one and all that follow.

"This and following" splits the series the way calendar clients do: the old
series ends the day of the previous occurrence (an UNTIL), and a new series
with its own id starts at the cut.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from alongside.kit.errors import InvalidArgument

from . import validation as v
from .booking import Blocker, slot_problem
from .model import Interval, Session
from .recurrence import Occurrence, Override, Series, SeriesStatus
from .slots import SlotQuery


def cancel_occurrence(series: Series, index: int) -> Series:
    """Cancel one occurrence (an EXDATE in the feed)."""
    _require_index(series, index)
    return replace(
        series,
        cancelled=series.cancelled | {index},
        overrides=tuple(o for o in series.overrides if o.index != index),
        sequence=series.sequence + 1,
    )


def move_occurrence(series: Series, index: int, new_start: datetime) -> Series:
    """Move one occurrence, keeping its length (a RECURRENCE-ID override)."""
    _require_index(series, index)
    v.require_aware(new_start, "slot.start")
    kept = tuple(o for o in series.overrides if o.index != index)
    moved = Override(index, Interval(new_start, new_start + series.duration))
    return replace(series, overrides=(*kept, moved), sequence=series.sequence + 1)


def truncate(series: Series, index: int) -> Series:
    """Cancel occurrence ``index`` and every later one."""
    _require_index(series, index)
    if index == 0:
        return replace(series, status=SeriesStatus.CANCELLED, sequence=series.sequence + 1)
    last_kept = series.first_start_local + (index - 1) * timedelta(weeks=1)
    return replace(
        series,
        count=None,
        until=last_kept.date(),
        cancelled=frozenset(i for i in series.cancelled if i < index),
        overrides=tuple(o for o in series.overrides if o.index < index),
        sequence=series.sequence + 1,
    )


def split(
    series: Series, index: int, new_id: str, new_first_start_local: datetime | None = None
) -> tuple[Series, Series]:
    """Edit this and following: (old series truncated, new series from ``index``).

    Cancelled occurrences after the cut stay cancelled (re-indexed); moved
    ones are dropped, since the new time pattern supersedes them.
    """
    old = truncate(series, index)
    start = new_first_start_local or series.first_start_local + index * timedelta(weeks=1)
    remaining = None if series.count is None else series.count - index
    new = Series(
        id=new_id,
        peer_id=series.peer_id,
        participant_ref=series.participant_ref,
        tz=series.tz,
        first_start_local=start,
        duration=series.duration,
        count=remaining,
        until=series.until,
        cancelled=frozenset(i - index for i in series.cancelled if i >= index),
        session_type=series.session_type,
        match_id=series.match_id,
        participant_tz=series.participant_tz,
    )
    return old, new


def occurrence_problems(occurrences: list[Occurrence], query: SlotQuery) -> dict[int, Blocker]:
    """Check every occurrence, not just the first: index -> broken rule.

    ``query`` describes the peer's calendar (its duration and participant
    are those of the series); its horizon must cover the whole series.
    """
    problems: dict[int, Blocker] = {}
    for occurrence in occurrences:
        problem = slot_problem(query, occurrence.interval)
        if problem is not None:
            problems[occurrence.index] = problem
    return problems


def to_sessions(series: Series) -> list[Session]:
    """One BOOKED session per live occurrence, for reminders and attendance."""
    return [
        Session(
            id=f"{series.id}.{o.index}",
            peer_id=series.peer_id,
            participant_ref=series.participant_ref,
            start=o.interval.start,
            end=o.interval.end,
            session_type=series.session_type,
            sequence=series.sequence,
            series_id=series.id,
            occurrence_index=o.index,
            match_id=series.match_id,
            participant_tz=series.participant_tz,
        )
        for o in series.occurrences()
    ]


def _require_index(series: Series, index: int) -> None:
    live = {o.index for o in series.occurrences()}
    if index not in live:
        raise InvalidArgument("occurrence_index", "no such live occurrence in the series")
