"""A session's life: booked, then moved, cancelled, attended or missed.

Every function returns a new ``Session``; none reads a clock. ``sequence``
goes up on each change a calendar client must see (time or cancellation),
which is what the ICS feed's SEQUENCE and the reminder ids are built from.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from alongside.kit.errors import FailedPrecondition

from . import validation as v
from .model import Policy, Session, SessionStatus


def new_session(
    *,
    session_id: str,
    peer_id: str,
    participant_ref: str,
    start: datetime,
    session_type: str,
    now: datetime,
    policy: Policy,
) -> Session:
    """A BOOKED session of a configured type starting at ``start``."""
    v.require_aware(start, "slot.start")
    v.require_future(start, now, "slot.start")
    v.require_text(participant_ref, "participant_ref")
    kind = policy.session_type(session_type)
    return Session(
        id=session_id,
        peer_id=peer_id,
        participant_ref=participant_ref,
        start=start,
        end=start + kind.duration,
        session_type=kind.name,
    )


def cancel(session: Session, *, reason: str, now: datetime, notice: timedelta, staff_override: bool = False) -> Session:
    """Cancel with a reason; inside the notice window only staff may."""
    v.require_text(reason, "reason")
    _require_booked(session)
    _require_notice(session, now, notice, staff_override)
    return session.with_changes(status=SessionStatus.CANCELLED, cancel_reason=reason, sequence=session.sequence + 1)


def reschedule(
    session: Session,
    *,
    start: datetime,
    now: datetime,
    notice: timedelta,
    staff_override: bool = False,
) -> Session:
    """Move to ``start`` keeping the length; the caller re-checks the slot."""
    v.require_aware(start, "slot.start")
    v.require_future(start, now, "slot.start")
    _require_booked(session)
    _require_notice(session, now, notice, staff_override)
    length = session.end - session.start
    return session.with_changes(start=start, end=start + length, sequence=session.sequence + 1)


def mark_attended(session: Session, now: datetime) -> Session:
    """Record attendance once the session has begun."""
    _require_started(session, now)
    return session.with_changes(status=SessionStatus.ATTENDED)


def mark_no_show(session: Session, now: datetime) -> Session:
    """Record a no-show once the session has begun."""
    _require_started(session, now)
    return session.with_changes(status=SessionStatus.NO_SHOW)


def _require_booked(session: Session) -> None:
    if session.status is not SessionStatus.BOOKED:
        raise FailedPrecondition("session is not in BOOKED state")


def _require_started(session: Session, now: datetime) -> None:
    _require_booked(session)
    if now < session.start:
        raise FailedPrecondition("session has not started yet")


def _require_notice(session: Session, now: datetime, notice: timedelta, override: bool) -> None:
    """Short-notice changes hurt the other person; staff can still make them."""
    if not override and session.start - now < notice:
        raise FailedPrecondition("change is inside the notice window; staff override required")
