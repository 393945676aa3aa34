"""Incoming events (matcher and scheduler) to triggers, and the consumers.

Only ids, the session start and the urgency flag are read from an event.
A malformed event, or one without a usable peer or event id, can never be
handled and is dead-lettered at once (``Permanent``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from google.protobuf.message import DecodeError, Message
from google.protobuf.timestamp_pb2 import Timestamp

from alongside.api.matcher.v1 import events_pb2 as match_events
from alongside.api.matcher.v1 import matcher_pb2
from alongside.api.scheduler.v1 import events_pb2 as session_events
from alongside.kit import protoconv
from alongside.kit.errors import InvalidArgument
from alongside.kit.events.consumer import Permanent
from alongside.kit.events.envelope import Event
from alongside.kit.ids import check_id, is_id, is_ref
from alongside.notifier.domain.model import kind_for_event
from alongside.notifier.domain.notification import Trigger

CONSENT_REVOKED = "match.consent_revoked"
PARTICIPANT_ERASED = "match.participant_erased"
CASELOAD_IMPORTED = "match.caseload_imported"
MATCH_EVENTS = ("match.accepted", "match.closed", CONSENT_REVOKED, PARTICIPANT_ERASED, CASELOAD_IMPORTED)
GROUP_EVENTS = ("session.group.enrolled", "session.group.promoted", "session.group.reminder_due")
SESSION_EVENTS = ("session.booked", "session.rescheduled", "session.cancelled", "session.reminder_due", *GROUP_EVENTS)

BODIES: dict[str, type[Message]] = {
    "match.accepted": match_events.MatchAccepted,
    "match.closed": match_events.MatchClosed,
    CASELOAD_IMPORTED: match_events.CaseloadImported,
    "session.booked": session_events.SessionBooked,
    "session.rescheduled": session_events.SessionRescheduled,
    "session.cancelled": session_events.SessionCancelled,
    "session.reminder_due": session_events.SessionReminderDue,
    "session.group.enrolled": session_events.GroupEnrolmentChanged,
    "session.group.promoted": session_events.GroupEnrolmentChanged,
    "session.group.reminder_due": session_events.GroupReminderDue,
}


def to_trigger(event: Event) -> Trigger | None:
    """The trigger for an event peers are told about; None for any other event."""
    kind = kind_for_event(event.type)
    body_type = BODIES.get(event.type)
    if kind is None or body_type is None:
        return None
    try:
        body = event.parse(body_type)
    except DecodeError:
        raise Permanent("the event body does not parse") from None

    def get(name: str) -> object:
        return getattr(body, name, None)

    return Trigger(
        event_id=_required_id(event.id, "event id"),
        kind=kind,
        peer_id=_required_id(str(get("peer_id") or ""), "peer_id"),
        match_id=_optional_id(get("match_id")),
        session_id=_optional_id(get("session_id"), ref=True),
        start=_instant(body, "start"),
        previous_start=_instant(body, "previous_start"),
        flagged_urgent=get("urgency") == matcher_pb2.URGENCY_URGENT,
    )


@dataclass(frozen=True, slots=True)
class Revocation:
    peer_id: str
    match_id: str


def to_revocation(event: Event) -> Revocation | None:
    """The revoked match and its peer; None for another event, or a request
    revoked before it had a match (nothing was ever sent about it)."""
    if event.type.removeprefix("alongside.") != CONSENT_REVOKED:
        return None
    try:
        body = event.parse(match_events.ConsentRevoked)
    except DecodeError:
        raise Permanent("the event body does not parse") from None
    if not body.match_id and not body.peer_id:
        return None
    return Revocation(_required_id(body.peer_id, "peer_id"), _required_id(body.match_id, "match_id"))


@dataclass(frozen=True, slots=True)
class Erasure:
    erasure_id: str
    matches: list[tuple[str, str]]  # (peer id, match id)


def to_erasure(event: Event) -> Erasure | None:
    """The erasure and its (peer, match) pairs; None for another event."""
    if event.type.removeprefix("alongside.") != PARTICIPANT_ERASED:
        return None
    try:
        body = event.parse(match_events.ParticipantErased)
    except DecodeError:
        raise Permanent("the event body does not parse") from None
    matches = [(_required_id(m.peer_id, "peer_id"), _required_id(m.match_id, "match_id")) for m in body.matches]
    return Erasure(_required_id(body.erasure_id, "erasure_id"), matches)


def _required_id(value: str, what: str) -> str:
    try:
        return check_id(what, value)
    except InvalidArgument:
        raise Permanent(f"the event has no usable {what}") from None


def _optional_id(value: object, *, ref: bool = False) -> str | None:
    """An id to link to from the inbox (``ref``: scoped ids too); one that
    does not look like an id is dropped."""
    if not isinstance(value, str) or not (is_ref(value) if ref else is_id(value)):
        return None
    return value


def _instant(body: Message, name: str) -> datetime | None:
    if name not in body.DESCRIPTOR.fields_by_name or not body.HasField(name):
        return None
    stamp = getattr(body, name)
    assert isinstance(stamp, Timestamp)
    try:
        return protoconv.timestamp(name, stamp)
    except InvalidArgument:
        raise Permanent(f"the event's {name} is out of range") from None
