"""Book, reschedule, cancel (notice window, staff override), attended, no-show."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from alongside.kit.errors import FailedPrecondition, InvalidArgument
from alongside.scheduler.domain.lifecycle import cancel, mark_attended, mark_no_show, new_session, reschedule
from alongside.scheduler.domain.model import Policy, Session, SessionStatus

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
NOTICE = timedelta(hours=24)
POLICY = Policy()


def book(start: datetime = NOW + timedelta(days=3), kind: str = "intake") -> Session:
    return new_session(
        session_id="s-1", peer_id="p-1", participant_ref="ref-1", start=start, session_type=kind, now=NOW, policy=POLICY
    )


def test_new_session_takes_length_from_type() -> None:
    session = book(kind="check_in")
    assert session.end - session.start == timedelta(minutes=30)
    assert session.status is SessionStatus.BOOKED and session.sequence == 0


def test_unknown_session_type_names_the_field() -> None:
    with pytest.raises(InvalidArgument) as err:
        book(kind="therapy")
    assert err.value.field == "session_type"


def test_past_slot_names_the_field() -> None:
    with pytest.raises(InvalidArgument) as err:
        book(start=NOW - timedelta(minutes=1))
    assert err.value.field == "slot.start"


def test_cancel_needs_a_reason() -> None:
    with pytest.raises(InvalidArgument) as err:
        cancel(book(), reason="  ", now=NOW, notice=NOTICE)
    assert err.value.field == "reason"


def test_cancel_outside_notice_window_bumps_sequence() -> None:
    done = cancel(book(), reason="participant asked", now=NOW, notice=NOTICE)
    assert done.status is SessionStatus.CANCELLED and done.sequence == 1


def test_cancel_inside_notice_window_needs_staff() -> None:
    soon = book(start=NOW + timedelta(hours=3))
    with pytest.raises(FailedPrecondition):
        cancel(soon, reason="ill", now=NOW, notice=NOTICE)
    assert cancel(soon, reason="ill", now=NOW, notice=NOTICE, staff_override=True).status is SessionStatus.CANCELLED


def test_cancel_twice_is_a_state_conflict() -> None:
    done = cancel(book(), reason="r", now=NOW, notice=NOTICE)
    with pytest.raises(FailedPrecondition):
        cancel(done, reason="r", now=NOW, notice=NOTICE)


def test_reschedule_keeps_length_and_bumps_sequence() -> None:
    session = book()
    moved = reschedule(session, start=NOW + timedelta(days=5), now=NOW, notice=NOTICE)
    assert moved.start == NOW + timedelta(days=5)
    assert moved.end - moved.start == session.end - session.start
    assert moved.sequence == 1 and moved.id == session.id


def test_reschedule_into_the_past_is_invalid() -> None:
    with pytest.raises(InvalidArgument):
        reschedule(book(), start=NOW - timedelta(hours=1), now=NOW, notice=NOTICE)


def test_reschedule_inside_notice_window_needs_staff() -> None:
    soon = book(start=NOW + timedelta(hours=2))
    with pytest.raises(FailedPrecondition):
        reschedule(soon, start=NOW + timedelta(days=2), now=NOW, notice=NOTICE)


def test_attended_and_no_show_only_after_start() -> None:
    session = book()
    with pytest.raises(FailedPrecondition):
        mark_attended(session, NOW)
    later = session.start + timedelta(minutes=5)
    assert mark_attended(session, later).status is SessionStatus.ATTENDED
    assert mark_no_show(session, later).status is SessionStatus.NO_SHOW


def test_cancelled_session_cannot_be_marked_attended() -> None:
    done = cancel(book(), reason="r", now=NOW, notice=NOTICE)
    with pytest.raises(FailedPrecondition):
        mark_attended(done, done.start + timedelta(minutes=1))
