"""Reminder due times and ids: skip past, none when cancelled, new ids on reschedule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alongside.scheduler.domain.lifecycle import cancel, reschedule
from alongside.scheduler.domain.model import Session
from alongside.scheduler.domain.reminders import reminder_changes, reminders

OFFSETS = (timedelta(hours=24), timedelta(hours=1))
START = datetime(2027, 3, 10, 15, 0, tzinfo=UTC)
NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def session() -> Session:
    return Session(id="s-9", peer_id="p", participant_ref="ref", start=START, end=START + timedelta(minutes=45))


def test_one_reminder_per_offset_with_stable_ids() -> None:
    got = reminders(session(), OFFSETS, NOW)
    assert [(r.id, r.due_at) for r in got] == [
        ("s-9:1440m:0", START - timedelta(hours=24)),
        ("s-9:60m:0", START - timedelta(hours=1)),
    ]
    assert reminders(session(), OFFSETS, NOW) == got


def test_past_due_reminders_are_skipped() -> None:
    got = reminders(session(), OFFSETS, START - timedelta(hours=3))
    assert [r.id for r in got] == ["s-9:60m:0"]


def test_reminder_due_exactly_now_is_kept() -> None:
    assert [r.id for r in reminders(session(), OFFSETS, START - timedelta(hours=1))] == ["s-9:60m:0"]


def test_cancelled_session_gets_none() -> None:
    done = cancel(session(), reason="r", now=NOW, notice=timedelta(hours=24))
    assert reminders(done, OFFSETS, NOW) == []


def test_reschedule_swaps_old_ids_for_new_ones() -> None:
    before = session()
    after = reschedule(before, start=START + timedelta(days=1), now=NOW, notice=timedelta(hours=24))
    change = reminder_changes(before, after, OFFSETS, NOW)
    assert change.drop == ("s-9:1440m:0", "s-9:60m:0")
    assert [r.id for r in change.add] == ["s-9:1440m:1", "s-9:60m:1"]
    assert [r.due_at for r in change.add] == [START, START + timedelta(hours=23)]


def test_cancel_drops_everything() -> None:
    before = session()
    change = reminder_changes(before, cancel(before, reason="r", now=NOW, notice=timedelta(0)), OFFSETS, NOW)
    assert change.add == () and len(change.drop) == 2


def test_new_session_adds_all_and_unchanged_changes_nothing() -> None:
    assert len(reminder_changes(None, session(), OFFSETS, NOW).add) == 2
    unchanged = reminder_changes(session(), session(), OFFSETS, NOW)
    assert unchanged.add == () and unchanged.drop == ()
