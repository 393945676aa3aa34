"""Booking-time re-check, the reason nothing fits, and auto-booking."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from alongside.kit.errors import FailedPrecondition
from alongside.scheduler.domain.booking import Blocker, auto_book, check_slot, diagnose, slot_problem
from alongside.scheduler.domain.model import Availability, Interval, Urgency, WeeklyWindow
from alongside.scheduler.domain.slots import SlotQuery

HOUR = timedelta(hours=1)
TARGET = timedelta(hours=48)
MON, TUE, FRI = 0, 1, 4


def utc(d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(2027, 3, d, h, mi, tzinfo=UTC)  # 1 March 2027 is a Monday


def query(**changes: object) -> SlotQuery:
    base: dict[str, object] = {
        "peer": Availability((WeeklyWindow(MON, 9 * 60, 12 * 60), WeeklyWindow(FRI, 9 * 60, 12 * 60)), "UTC"),
        "participant": Availability((WeeklyWindow(MON, 10 * 60, 17 * 60), WeeklyWindow(FRI, 9 * 60, 17 * 60)), "UTC"),
        "duration": HOUR,
        "earliest": utc(1),
        "horizon_end": utc(15),
        "buffer": timedelta(minutes=15),
        "daily_cap": 2,
    }
    base.update(changes)
    return SlotQuery(**base)  # type: ignore[arg-type]


def slot(d: int, h: int, mi: int = 0) -> Interval:
    return Interval(utc(d, h, mi), utc(d, h, mi) + HOUR)


def test_feasible_slot_has_no_problem() -> None:
    assert slot_problem(query(), slot(1, 10)) is None
    check_slot(query(), slot(1, 10))


@pytest.mark.parametrize(
    ("changes", "candidate", "blocker"),
    [
        ({"earliest": utc(1, 11)}, slot(1, 10), Blocker.OUTSIDE_HORIZON),
        ({}, slot(2, 10), Blocker.PEER_UNAVAILABLE),
        ({}, slot(1, 9), Blocker.PARTICIPANT_UNAVAILABLE),
        ({"time_off": (Interval(utc(1, 10, 30), utc(1, 10, 45)),)}, slot(1, 10), Blocker.TIME_OFF),
        ({"bookings": (slot(1, 9),)}, slot(1, 10, 5), Blocker.CONFLICT),
        ({"busy": (Interval(utc(1, 11, 10), utc(1, 12)),)}, slot(1, 10), Blocker.CONFLICT),
        ({"bookings": (slot(1, 9), slot(1, 11, 30)), "buffer": timedelta(0)}, slot(1, 10), Blocker.DAILY_CAP),
    ],
)
def test_each_rule_is_rechecked_at_booking(changes: dict[str, object], candidate: Interval, blocker: Blocker) -> None:
    q = query(**changes)
    assert slot_problem(q, candidate) is blocker
    with pytest.raises(FailedPrecondition):
        check_slot(q, candidate)


def test_slot_straddling_two_windows_is_rejected() -> None:
    peer = Availability((WeeklyWindow(MON, 9 * 60, 10 * 60), WeeklyWindow(MON, 10 * 60 + 30, 12 * 60)), "UTC")
    assert slot_problem(query(peer=peer), slot(1, 9, 30)) is Blocker.PEER_UNAVAILABLE


def test_diagnose_is_none_when_slots_exist() -> None:
    assert diagnose(query()) is None


def test_diagnose_no_shared_window() -> None:
    participant = Availability((WeeklyWindow(TUE, 9 * 60, 17 * 60),), "UTC")
    assert diagnose(query(participant=participant)) is Blocker.NO_SHARED_WINDOW


def test_diagnose_time_off() -> None:
    assert diagnose(query(time_off=(Interval(utc(1), utc(15)),))) is Blocker.TIME_OFF


def test_diagnose_fully_booked() -> None:
    booked = tuple(slot(d, h) for d in (1, 5, 8, 12) for h in (9, 10, 11))
    assert diagnose(query(bookings=booked, daily_cap=None, buffer=timedelta(0))) is Blocker.CONFLICT


def test_diagnose_daily_cap() -> None:
    booked = tuple(Interval(utc(d, 6), utc(d, 7)) for d in (1, 1, 5, 5, 8, 8, 12, 12))
    assert diagnose(query(bookings=booked)) is Blocker.DAILY_CAP


def test_auto_book_takes_the_earliest_common_slot() -> None:
    result = auto_book(query(), Urgency.ROUTINE, utc(1), TARGET)
    assert result.slot == slot(1, 10) and result.blocker is None and result.urgent_target_met is None


def test_urgent_within_48_hours_is_flagged_met() -> None:
    result = auto_book(query(), Urgency.URGENT, utc(1), TARGET)
    assert result.slot == slot(1, 10) and result.urgent_target_met is True


def test_urgent_beyond_48_hours_is_booked_but_flagged() -> None:
    result = auto_book(query(earliest=utc(2)), Urgency.URGENT, utc(2), TARGET)
    assert result.slot == slot(5, 9) and result.urgent_target_met is False


def test_unschedulable_says_why() -> None:
    participant = Availability((WeeklyWindow(TUE, 9 * 60, 17 * 60),), "UTC")
    result = auto_book(query(participant=participant), Urgency.URGENT, utc(1), TARGET)
    assert result.slot is None and result.blocker is Blocker.NO_SHARED_WINDOW
    assert result.reason is not None and "overlap" in result.reason
