"""Reminders for a group's meetings, to each facilitator: due times, ids, validity.

A group's reminders wait in each facilitator's pending-reminder set beside
their one-to-one reminders and are fired by the same loop and function
(``fire.lua``). Their ids, ``~grp:<group id>.<n>:<minutes>m:<sequence>``,
start with ``~``, which no peer id (so no session id, so no session
reminder id) can: the two kinds never collide and the loop tells them apart
from the id alone. The id carries the series' ``sequence``, which every
change of the group's schedule bumps (cancelling does), so a reminder of an
older schedule is recognised and dropped unsent.

All of a group's meetings get their reminders when it is created: a series
has at most ``recurrence.MAX_OCCURRENCES`` (104) meetings, so a facilitator
holds at most 104 entries per offset per group, as many as the group already
puts in their ``booked`` set; no rolling window or top-up is needed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from . import validation as v
from .groups import Group, occurrence_id
from .recurrence import Occurrence

PREFIX = "~grp:"


@dataclass(frozen=True, slots=True)
class GroupReminder:
    id: str
    group_id: str
    index: int
    due_at: datetime
    offset: timedelta


@dataclass(frozen=True, slots=True)
class ParsedGroupReminder:
    group_id: str
    index: int
    offset: timedelta
    sequence: int


def _minutes(offset: timedelta) -> int:
    return int(offset.total_seconds() // 60)


def group_reminder_id(group_id: str, index: int, offset: timedelta, sequence: int) -> str:
    """``~grp:<group id>.<index>:<minutes>m:<sequence>``, stable for an unchanged schedule."""
    return f"{PREFIX}{occurrence_id(group_id, index)}:{_minutes(offset)}m:{sequence}"


def is_group_reminder_id(reminder_id: str) -> bool:
    return reminder_id.startswith(PREFIX)


def parse_group_reminder_id(reminder_id: str) -> ParsedGroupReminder | None:
    """The parts of a group reminder id; None for anything else."""
    if not is_group_reminder_id(reminder_id):
        return None
    parts = reminder_id[len(PREFIX) :].rsplit(":", 2)
    if len(parts) != 3:
        return None
    meeting, minutes, sequence = parts
    group_id, _, index = meeting.rpartition(".")
    if not group_id or not index.isdigit() or not minutes.endswith("m") or not minutes[:-1].isdigit():
        return None
    if not sequence.isdigit():
        return None
    return ParsedGroupReminder(group_id, int(index), timedelta(minutes=int(minutes[:-1])), int(sequence))


def group_reminders(group: Group, offsets: Iterable[timedelta], now: datetime) -> list[GroupReminder]:
    """Reminders still to send for the group's live meetings, earliest first.

    None for a cancelled group. As for sessions, a reminder whose due time
    has passed is skipped rather than sent late; one due exactly now is kept.
    """
    v.require_aware(now, "now")
    offsets = tuple(offsets)
    sequence = group.series.sequence
    due = {
        GroupReminder(group_reminder_id(group.id, o.index, offset, sequence), group.id, o.index, start - offset, offset)
        for o in group.occurrences()
        for offset in offsets
        if (start := o.interval.start) - offset >= now
    }
    return sorted(due, key=lambda r: (r.due_at, r.id))


def every_reminder_id(group: Group, offsets: Iterable[timedelta]) -> set[str]:
    """Every id the group's live meetings have, due or not (what to withdraw)."""
    offsets = tuple(offsets)
    sequence = group.series.sequence
    return {group_reminder_id(group.id, o.index, offset, sequence) for o in group.occurrences() for offset in offsets}


@dataclass(frozen=True, slots=True)
class GroupReminderChange:
    add: tuple[GroupReminder, ...]
    drop: tuple[str, ...]


def group_reminder_changes(
    before: Group | None, after: Group, offsets: Iterable[timedelta], now: datetime
) -> GroupReminderChange:
    """What to schedule and withdraw, for one facilitator, when a group changes.

    Creation adds every meeting's reminders; cancelling drops them all; a
    changed schedule (a new ``sequence``) drops the old ids and adds new ones.
    """
    offsets = tuple(offsets)
    old = every_reminder_id(before, offsets) if before is not None else set()
    new = group_reminders(after, offsets, now)
    new_ids = {r.id for r in new}
    return GroupReminderChange(
        add=tuple(r for r in new if r.id not in old),
        drop=tuple(sorted(old - new_ids)),
    )


def meeting_to_remind(
    group: Group | None, peer_id: str, parsed: ParsedGroupReminder, now: datetime
) -> Occurrence | None:
    """The meeting a reminder is for, if it still holds: the group is active,
    its schedule unchanged (same sequence), ``peer_id`` still facilitates it,
    the meeting is live (not cancelled) and has not ended. None otherwise:
    the reminder is dropped unsent."""
    if group is None or group.id != parsed.group_id or not group.active:
        return None
    if group.series.sequence != parsed.sequence or peer_id not in group.facilitators:
        return None
    for occurrence in group.occurrences():
        if occurrence.index == parsed.index:
            return occurrence if now < occurrence.interval.end else None
    return None
