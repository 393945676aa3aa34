"""Deciding whether a notification may wait for a peer's quiet hours to end.

The rules, in order:

1. The event says so: the matcher flags a match for a participant whose
   request was URGENT, and a producer may flag anything else it knows is
   pressing. That flag always wins.
2. Anything about a session that starts within ``URGENT_HORIZON`` (or has
   already started) is urgent: a reminder, booking, change or cancellation
   that waits until morning would arrive too late to act on.
3. Everything else is routine.

Deferral also has a backstop in ``quiet_hours.deliver_at``: a routine
message with a deadline is never held past it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from alongside.notifier.domain.model import SESSION_KINDS, Kind, Urgency

URGENT_HORIZON = timedelta(hours=2)


def classify_urgency(
    kind: Kind,
    *,
    now: datetime,
    session_start: datetime | None = None,
    flagged_urgent: bool = False,
) -> Urgency:
    """URGENT if the event is flagged, or it concerns a session starting soon.

    For a reschedule pass the earlier of the old and the new start: either
    one can be the reason the peer must act now.
    """
    if flagged_urgent:
        return Urgency.URGENT
    if session_is_imminent(kind, now, session_start):
        return Urgency.URGENT
    return Urgency.ROUTINE


def session_is_imminent(kind: Kind, now: datetime, session_start: datetime | None) -> bool:
    """A session kind whose session starts within the urgent horizon."""
    if kind not in SESSION_KINDS or session_start is None:
        return False
    return session_start - now <= URGENT_HORIZON
