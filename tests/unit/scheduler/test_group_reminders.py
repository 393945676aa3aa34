"""Group meeting reminders' pure parts: one per meeting and offset, ids that
cannot collide with a session's, withdrawal on cancel and on a changed
schedule, and the fire-time check that drops a reminder that no longer holds."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from alongside.scheduler.domain.group_reminders import (
    PREFIX,
    ParsedGroupReminder,
    every_reminder_id,
    group_reminder_changes,
    group_reminder_id,
    group_reminders,
    is_group_reminder_id,
    meeting_to_remind,
    parse_group_reminder_id,
)
from alongside.scheduler.domain.groups import Group, Modality
from alongside.scheduler.domain.model import Session
from alongside.scheduler.domain.recurrence import MAX_OCCURRENCES, Series
from alongside.scheduler.domain.reminders import reminder_id
from alongside.scheduler.service.reminders import parse_reminder_id

OFFSETS = (timedelta(hours=24), timedelta(hours=1))
NOW = datetime(2027, 3, 1, 9, tzinfo=UTC)
GID = "p-1~g1"


def group(count: int = 3, **series_extra: object) -> Group:
    fields: dict[str, object] = {
        "id": GID,
        "peer_id": "p-1",
        "participant_ref": "",
        "tz": "America/New_York",
        "first_start_local": datetime(2027, 3, 9, 18),  # New York changes its clocks on 14 March
        "duration": timedelta(minutes=90),
        "count": count,
        "session_type": "group",
        **series_extra,
    }
    series = Series(**fields)  # type: ignore[arg-type]
    return Group(GID, "p-1", "p-2", 12, Modality.VIDEO, series)


def test_every_meeting_gets_one_reminder_per_offset_at_its_own_start() -> None:
    got = group_reminders(group(), OFFSETS, NOW)
    starts = [o.interval.start for o in group().occurrences()]
    assert len(got) == 3 * 2
    assert {(r.index, r.offset, r.due_at) for r in got} == {
        (i, offset, start - offset) for i, start in enumerate(starts) for offset in OFFSETS
    }
    assert [r.due_at for r in got] == sorted(r.due_at for r in got)
    # 18:00 local on both sides of the change: 23:00 UTC, then 22:00 UTC.
    assert starts[0].hour == 23 and starts[1].hour == 22
    assert got[0].id == f"~grp:{GID}.0:1440m:0" and group_reminders(group(), OFFSETS, NOW) == got


def test_past_due_reminders_are_skipped_and_one_due_now_is_kept() -> None:
    first = group().occurrences()[0].interval.start
    got = group_reminders(group(), OFFSETS, first - timedelta(hours=1))
    assert (got[0].index, got[0].offset) == (0, timedelta(hours=1))
    assert (0, timedelta(hours=24)) not in {(r.index, r.offset) for r in got}
    assert len(got) == 1 + 2 * 2


def test_a_cancelled_group_has_none_and_cancelling_withdraws_every_one() -> None:
    before = group()
    after = before.cancelled()
    assert group_reminders(after, OFFSETS, NOW) == []
    change = group_reminder_changes(before, after, OFFSETS, NOW)
    assert change.add == () and set(change.drop) == every_reminder_id(before, OFFSETS)
    assert len(change.drop) == 6
    # Withdrawal does not depend on the clock: reminders already due go too.
    late = group_reminder_changes(before, after, OFFSETS, before.occurrences()[-1].interval.end)
    assert set(late.drop) == set(change.drop)


def test_creation_adds_every_reminder_and_a_changed_schedule_replaces_them() -> None:
    created = group_reminder_changes(None, group(), OFFSETS, NOW)
    assert created.drop == () and [r.id for r in created.add] == [r.id for r in group_reminders(group(), OFFSETS, NOW)]
    moved = replace(group(), series=replace(group().series, first_start_local=datetime(2027, 3, 10, 18), sequence=1))
    change = group_reminder_changes(group(), moved, OFFSETS, NOW)
    assert set(change.drop) == every_reminder_id(group(), OFFSETS)
    assert {r.id for r in change.add} == {r.id for r in group_reminders(moved, OFFSETS, NOW)}
    assert all(r.id.endswith(":1") for r in change.add)
    assert group_reminder_changes(group(), group(), OFFSETS, NOW) == type(change)(add=(), drop=())


def test_a_long_series_is_bounded_by_the_recurrence_limit() -> None:
    longest = group(count=MAX_OCCURRENCES)
    assert len(group_reminders(longest, OFFSETS, NOW)) == MAX_OCCURRENCES * len(OFFSETS)


def test_ids_round_trip() -> None:
    rid = group_reminder_id("a.b:c~gX", 17, timedelta(minutes=60), 3)
    assert parse_group_reminder_id(rid) == ParsedGroupReminder("a.b:c~gX", 17, timedelta(minutes=60), 3)


@pytest.mark.parametrize(
    "bad", ["", "~grp:", "~grp:p~g1:60m:0", "~grp:p~g1.x:60m:0", "~grp:p~g1.0:60:0", "~grp:p~g1.0:60m:z", "p~s.0:60m:0"]
)
def test_malformed_ids_do_not_parse(bad: str) -> None:
    assert parse_group_reminder_id(bad) is None


@pytest.mark.parametrize("peer_id", ["p-1", "g", "grp", "grp:x", "g:p~g1", "0.1:2"])
def test_no_session_reminder_id_is_a_group_one(peer_id: str) -> None:
    # Peer ids start with a letter or digit, so session (and series occurrence)
    # reminder ids never start with "~"; a group id never parses as a session's.
    start = datetime(2027, 3, 9, tzinfo=UTC)
    for sid in (f"{peer_id}~abc", f"{peer_id}~rX.4"):
        rid = reminder_id(Session(sid, peer_id, "ref", start, start + timedelta(hours=1)), timedelta(hours=1))
        assert not is_group_reminder_id(rid) and not rid.startswith(PREFIX)
    assert group_reminder_id(f"{peer_id}~g1", 0, timedelta(hours=1), 0).startswith(PREFIX)
    session_view = parse_reminder_id(group_reminder_id(f"{peer_id}~g1", 0, timedelta(hours=1), 0))
    assert session_view is None or session_view[0].startswith("~")  # a session id never does


def parsed(index: int = 1, sequence: int = 0) -> ParsedGroupReminder:
    return ParsedGroupReminder(GID, index, timedelta(hours=1), sequence)


def test_a_meeting_that_still_holds_is_reminded_for_each_facilitator() -> None:
    for peer in ("p-1", "p-2"):
        meeting = meeting_to_remind(group(), peer, parsed(), NOW)
        assert meeting is not None and meeting.index == 1


def test_a_reminder_that_no_longer_holds_is_dropped() -> None:
    g = group()
    second_end = g.occurrences()[1].interval.end
    assert meeting_to_remind(None, "p-1", parsed(), NOW) is None  # group gone
    assert meeting_to_remind(g.cancelled(), "p-1", parsed(), NOW) is None  # cancelled
    assert meeting_to_remind(g, "p-1", parsed(sequence=1), NOW) is None  # schedule changed since
    assert meeting_to_remind(g, "p-3", parsed(), NOW) is None  # not a facilitator
    assert meeting_to_remind(g, "p-1", parsed(index=7), NOW) is None  # no such meeting
    assert meeting_to_remind(group(cancelled=frozenset({1})), "p-1", parsed(), NOW) is None  # meeting cancelled
    assert meeting_to_remind(g, "p-1", parsed(), second_end) is None  # over
    assert meeting_to_remind(g, "p-1", parsed(), second_end - timedelta(seconds=1)) is not None
