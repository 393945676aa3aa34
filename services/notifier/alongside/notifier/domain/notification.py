"""From an event about a peer to a plan: which channels, how urgent, and when.

``Trigger`` is what the notifier keeps from an incoming event: ids, a kind,
the session start (if any) and the producer's urgency flag. Nothing else an
event carries is read, so nothing else can leak.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

from alongside.notifier.domain.model import SESSION_KINDS, Channel, ContactPreferences, Kind, Urgency
from alongside.notifier.domain.quiet_hours import deliver_at
from alongside.notifier.domain.routing import route
from alongside.notifier.domain.urgency import classify_urgency

NOTIFICATION_ID_PREFIX = "nt"


@dataclass(frozen=True, slots=True)
class Trigger:
    """An event the peer is told about. ``previous_start`` is set for a reschedule."""

    event_id: str
    kind: Kind
    peer_id: str
    match_id: str | None = None
    session_id: str | None = None
    start: datetime | None = None
    previous_start: datetime | None = None
    flagged_urgent: bool = False
    notification_id: str = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "notification_id", notification_id_for(self.event_id))

    def earliest_start(self) -> datetime | None:
        """The start that makes a session change most pressing: either the old
        or the new one may be why the peer must act now."""
        starts = [s for s in (self.start, self.previous_start) if s is not None]
        return min(starts) if starts else None

    def deadline(self) -> datetime | None:
        """A routine message about a session is never held past its start."""
        return self.start if self.kind in SESSION_KINDS else None


@dataclass(frozen=True, slots=True)
class Plan:
    """The channels to use (inbox first), the urgency and when outside
    channels may send. The inbox is written at once: it makes no sound."""

    channels: tuple[Channel, ...]
    urgency: Urgency
    send_at: datetime

    @property
    def outside(self) -> tuple[Channel, ...]:
        return tuple(c for c in self.channels if c is not Channel.INBOX)


def notification_id_for(event_id: str) -> str:
    """Derived from the event id, so a redelivered or re-published event names
    the same notification and cannot create a second one. Hashed, so the id
    reveals nothing about its source."""
    return NOTIFICATION_ID_PREFIX + hashlib.sha256(event_id.encode("utf-8")).hexdigest()[:32]


def message_key(event_id: str, channel: Channel) -> str:
    """A stable key per (event, channel): the email Message-ID's local part,
    so a receiver can drop a repeat of the same message."""
    return hashlib.sha256(f"{event_id}/{channel.value}".encode()).hexdigest()[:32]


def plan(trigger: Trigger, prefs: ContactPreferences, now: datetime) -> Plan:
    """Route by the peer's choices, classify urgency, and hold routine news
    for outside channels until the peer's quiet hours end."""
    urgency = classify_urgency(
        trigger.kind,
        now=now,
        session_start=trigger.earliest_start(),
        flagged_urgent=trigger.flagged_urgent,
    )
    return Plan(
        channels=tuple(route(trigger.kind, prefs)),
        urgency=urgency,
        send_at=deliver_at(now, prefs, urgency, deadline=trigger.deadline()),
    )
