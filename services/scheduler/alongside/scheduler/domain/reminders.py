"""Reminder due times and their stable ids.

The service layer sends each reminder exactly once by recording its id in
Redis; this module only says which reminders a session should have now.
The id carries the session's ``sequence``, so a rescheduled session gets
fresh ids and the old ones can be dropped without colliding.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from . import validation as v
from .model import Session, SessionStatus


@dataclass(frozen=True, slots=True)
class Reminder:
    id: str
    session_id: str
    due_at: datetime
    offset: timedelta


def reminder_id(session: Session, offset: timedelta) -> str:
    """``<session>:<minutes>m:<sequence>``, stable for an unchanged session."""
    minutes = int(offset.total_seconds() // 60)
    return f"{session.id}:{minutes}m:{session.sequence}"


def reminders(session: Session, offsets: Iterable[timedelta], now: datetime) -> list[Reminder]:
    """Reminders still to send, earliest first.

    None for a session that is not BOOKED. A reminder whose due time has
    passed is skipped rather than sent late; one due exactly now is kept.
    """
    v.require_aware(now, "now")
    if session.status is not SessionStatus.BOOKED:
        return []
    due = {
        Reminder(reminder_id(session, offset), session.id, session.start - offset, offset)
        for offset in offsets
        if session.start - offset >= now
    }
    return sorted(due, key=lambda r: (r.due_at, r.id))


@dataclass(frozen=True, slots=True)
class ReminderChange:
    add: tuple[Reminder, ...]
    drop: tuple[str, ...]


def reminder_changes(
    before: Session | None, after: Session, offsets: Iterable[timedelta], now: datetime
) -> ReminderChange:
    """What to schedule and what to withdraw when a session changes.

    A cancellation drops everything; a reschedule drops the old ids and adds
    new ones; an unchanged session changes nothing.
    """
    offsets = tuple(offsets)
    old = {r.id: r for r in reminders(before, offsets, now)} if before else {}
    new = {r.id: r for r in reminders(after, offsets, now)}
    return ReminderChange(
        add=tuple(r for key, r in new.items() if key not in old),
        drop=tuple(sorted(key for key in old if key not in new)),
    )
