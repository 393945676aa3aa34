"""The notifier's vocabulary: what is notified, over which channel, and how urgently.

Pure values only. Validation of what a peer sends lives in ``preferences``;
everything here assumes it has already been checked.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from enum import StrEnum


class Kind(StrEnum):
    """A kind of notification a peer can subscribe to."""

    ASSIGNMENT_NEW = "assignment_new"
    SESSION_BOOKED = "session_booked"
    SESSION_RESCHEDULED = "session_rescheduled"
    SESSION_CANCELLED = "session_cancelled"
    SESSION_REMINDER = "session_reminder"
    MATCH_CLOSED = "match_closed"
    CASELOAD_IMPORTED = "caseload_imported"
    GROUP_ENROLMENT = "group_enrolment"
    GROUP_PROMOTED = "group_promoted"
    GROUP_REMINDER = "group_reminder"


class Channel(StrEnum):
    """Where a notification goes. The inbox never leaves Alongside."""

    INBOX = "inbox"
    EMAIL = "email"
    WEBHOOK = "webhook"


class Urgency(StrEnum):
    """ROUTINE waits for quiet hours to end; URGENT goes out at once."""

    ROUTINE = "routine"
    URGENT = "urgent"


ALL_KINDS: frozenset[Kind] = frozenset(Kind)
SESSION_KINDS: frozenset[Kind] = frozenset(
    {
        Kind.SESSION_BOOKED,
        Kind.SESSION_RESCHEDULED,
        Kind.SESSION_CANCELLED,
        Kind.SESSION_REMINDER,
        # A group meeting is timed like a session: urgent when it is near, never held past its start.
        Kind.GROUP_REMINDER,
    }
)
# Stable delivery order: the inbox first, so the in-app record exists before
# any outside channel points the peer at it.
CHANNEL_ORDER: tuple[Channel, ...] = (Channel.INBOX, Channel.EMAIL, Channel.WEBHOOK)

# CloudEvent types (the part after "alongside.") that the notifier turns into
# a notification. Anything else is not for peers.
EVENT_KINDS: Mapping[str, Kind] = {
    "match.accepted": Kind.ASSIGNMENT_NEW,
    "session.booked": Kind.SESSION_BOOKED,
    "session.rescheduled": Kind.SESSION_RESCHEDULED,
    "session.cancelled": Kind.SESSION_CANCELLED,
    "session.reminder_due": Kind.SESSION_REMINDER,
    "match.closed": Kind.MATCH_CLOSED,
    # One summary per peer and caseload import; match.imported itself tells nobody.
    "match.caseload_imported": Kind.CASELOAD_IMPORTED,
    # Group sessions: the host hears of an enrolment and of a promotion from
    # the waiting list; the events carry no participant reference.
    "session.group.enrolled": Kind.GROUP_ENROLMENT,
    "session.group.promoted": Kind.GROUP_PROMOTED,
    # Each facilitator (host and co-facilitator) of a group hears of its meetings.
    "session.group.reminder_due": Kind.GROUP_REMINDER,
}


def kind_for_event(event_type: str) -> Kind | None:
    """The notification kind for an event type, or None if peers are not told.

    Accepts both ``match.accepted`` and the full ``alongside.match.accepted``.
    """
    return EVENT_KINDS.get(event_type.removeprefix("alongside."))


@dataclass(frozen=True, slots=True)
class QuietHours:
    """A daily window, in the peer's local wall time, when routine messages wait.

    ``start > end`` means the window wraps midnight (22:00-07:00). The window
    is half-open: ``start`` is quiet, ``end`` is not.
    """

    start: time
    end: time

    @property
    def wraps_midnight(self) -> bool:
        return self.start > self.end

    def contains(self, wall: time) -> bool:
        """Whether a local wall-clock time falls inside the quiet window."""
        wall = wall.replace(tzinfo=None, fold=0)
        if self.wraps_midnight:
            return wall >= self.start or wall < self.end
        return self.start <= wall < self.end


@dataclass(frozen=True, slots=True)
class ContactPreferences:
    """A peer's validated contact preferences.

    ``kinds`` is what the peer receives at all; ``channel_kinds`` may narrow a
    channel further (for example, only reminders by webhook/SMS). A channel
    missing from ``channel_kinds`` gets every kind in ``kinds``.
    """

    peer_id: str
    language: str = "en"
    timezone: str = "UTC"
    channels: frozenset[Channel] = frozenset({Channel.INBOX})
    email: str | None = None
    webhook_url: str | None = None
    kinds: frozenset[Kind] = ALL_KINDS
    channel_kinds: Mapping[Channel, frozenset[Kind]] = field(default_factory=dict, hash=False)
    quiet_hours: QuietHours | None = None


def default_preferences(peer_id: str) -> ContactPreferences:
    """What a peer who never set preferences gets: every kind, in the inbox,
    in English, on UTC, with no quiet hours."""
    return ContactPreferences(peer_id=peer_id)
