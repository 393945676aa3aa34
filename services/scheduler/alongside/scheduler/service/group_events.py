"""The group session events, ``session.group.*`` on the scheduler's own
subjects: ids and facts only. A participant appears by enrolment id, never
by reference, so no group event needs scrubbing when someone is erased."""

from __future__ import annotations

from typing import Any

from alongside.api.scheduler.v1 import events_pb2 as ev
from alongside.kit.events.envelope import Event
from alongside.scheduler.domain.group_reminders import ParsedGroupReminder
from alongside.scheduler.domain.groups import Group, occurrence_id
from alongside.scheduler.domain.recurrence import Occurrence
from alongside.scheduler.service.events import event, ts

CREATED = "session.group.created"
CANCELLED = "session.group.cancelled"
ENROLLED = "session.group.enrolled"
WAITLISTED = "session.group.waitlisted"
WITHDRAWN = "session.group.withdrawn"
PROMOTED = "session.group.promoted"
ATTENDANCE = "session.group.attendance_recorded"
REMINDER_DUE = "session.group.reminder_due"
EVENTS = (CREATED, CANCELLED, ENROLLED, WAITLISTED, WITHDRAWN, PROMOTED, ATTENDANCE, REMINDER_DUE)


def created(group: Group) -> Event:
    occurrences = group.occurrences()
    body = ev.GroupCreated(
        group_id=group.id,
        host_peer_id=group.host_peer_id,
        co_facilitator_peer_id=group.co_facilitator_peer_id or "",
        capacity=group.capacity,
        first_start=ts(occurrences[0].interval.start),
        occurrences=len(occurrences),
    )
    return event(CREATED, body, group.id)


def cancelled(group: Group) -> Event:
    body = ev.GroupCancelled(
        group_id=group.id,
        host_peer_id=group.host_peer_id,
        co_facilitator_peer_id=group.co_facilitator_peer_id or "",
    )
    return event(CANCELLED, body, group.id)


def enrolment(kind: str, group: Group, enrolment_id: str) -> Event:
    """``ENROLLED``, ``WAITLISTED``, ``WITHDRAWN`` or ``PROMOTED``; the host is told."""
    body = ev.GroupEnrolmentChanged(group_id=group.id, peer_id=group.host_peer_id, enrolment_id=enrolment_id)
    return event(kind, body, group.id)


def attendance(group: Group, enrolment_id: str, index: int, value: Any) -> Event:
    body = ev.GroupAttendanceRecorded(
        group_id=group.id,
        peer_id=group.host_peer_id,
        enrolment_id=enrolment_id,
        occurrence_index=index,
        attendance=value,
        occurrence_start=ts(group.occurrence(index).interval.start),
    )
    return event(ATTENDANCE, body, group.id)


def reminder_due(reminder_id: str, reminder: ParsedGroupReminder, peer_id: str, meeting: Occurrence) -> Event:
    """A meeting is coming up, for one facilitator (``peer_id``): no participant, no roster."""
    body = ev.GroupReminderDue(
        reminder_id=reminder_id,
        group_id=reminder.group_id,
        occurrence_index=meeting.index,
        peer_id=peer_id,
        start=ts(meeting.interval.start),
        offset_minutes=int(reminder.offset.total_seconds() // 60),
    )
    return event(REMINDER_DUE, body, occurrence_id(reminder.group_id, meeting.index))
