"""The ``session.*`` events: ids and facts only.

No names, contact data, zones, windows, free text or session type. The
participant appears only as the pseudonymous reference the matcher issued.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from alongside.api.scheduler.v1 import events_pb2 as ev
from alongside.api.scheduler.v1 import scheduler_pb2 as pb
from alongside.kit.events.envelope import Event
from alongside.kit.logging import current_correlation_id
from alongside.scheduler.adapters.codec import timestamp
from alongside.scheduler.domain.model import Session
from alongside.scheduler.domain.reminders import Reminder

SOURCE = "/alongside/scheduler"


def ts(instant: datetime) -> Timestamp:
    return timestamp(instant)


def event(kind: str, body: Message, subject: str) -> Event:
    return Event.of(kind, SOURCE, body, subject=subject, correlation_id=current_correlation_id() or "")


def booked(s: Session) -> Event:
    body = ev.SessionBooked(
        session_id=s.id,
        peer_id=s.peer_id,
        match_id=s.match_id or "",
        participant_ref=s.participant_ref,
        start=ts(s.start),
        end=ts(s.end),
        series_id=s.series_id or "",
        sequence=s.sequence,
    )
    return event("session.booked", body, s.id)


def rescheduled(before: Session, after: Session) -> Event:
    body = ev.SessionRescheduled(
        session_id=after.id,
        peer_id=after.peer_id,
        match_id=after.match_id or "",
        previous_start=ts(before.start),
        start=ts(after.start),
        end=ts(after.end),
        sequence=after.sequence,
    )
    return event("session.rescheduled", body, after.id)


def cancelled(s: Session) -> Event:
    reason: Any = pb.CancelReason.Value("CANCEL_REASON_" + (s.cancel_reason or "OTHER"))
    body = ev.SessionCancelled(
        session_id=s.id, peer_id=s.peer_id, match_id=s.match_id or "", reason=reason, start=ts(s.start)
    )
    return event("session.cancelled", body, s.id)


def completed(s: Session) -> Event:
    return event(
        "session.completed", ev.SessionCompleted(session_id=s.id, peer_id=s.peer_id, match_id=s.match_id or ""), s.id
    )


def no_show(s: Session) -> Event:
    return event(
        "session.no_show", ev.SessionNoShow(session_id=s.id, peer_id=s.peer_id, match_id=s.match_id or ""), s.id
    )


def reminder_due(reminder: Reminder, s: Session) -> Event:
    body = ev.SessionReminderDue(
        reminder_id=reminder.id,
        session_id=s.id,
        peer_id=s.peer_id,
        start=ts(s.start),
        offset_minutes=int(reminder.offset.total_seconds() // 60),
        match_id=s.match_id or "",
    )
    return event("session.reminder_due", body, s.id)


def unschedulable(match_id: str, peer_id: str, reason: str) -> Event:
    body = ev.SessionUnschedulable(match_id=match_id, peer_id=peer_id, reason=reason)
    return event("session.unschedulable", body, match_id)
