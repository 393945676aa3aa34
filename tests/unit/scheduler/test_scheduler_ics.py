"""The ICS feed, parsed back with icalendar: UIDs, SEQUENCE, STATUS, RRULE, zones, privacy."""

from __future__ import annotations

import inspect
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import icalendar

from alongside.scheduler.domain.ics import TITLE, render_ics
from alongside.scheduler.domain.lifecycle import cancel, reschedule
from alongside.scheduler.domain.model import Session
from alongside.scheduler.domain.recurrence import Series
from alongside.scheduler.domain.series_edit import cancel_occurrence, move_occurrence, truncate
from alongside.scheduler.domain.validation import zone

NY = "America/New_York"
STAMP = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
CANARY = "Zebediah Quillfeather"  # a participant's name that must never leak


def single(start: datetime, session_id: str = "s-1") -> Session:
    return Session(
        id=session_id, peer_id="p-1", participant_ref="PR-7F3A", start=start, end=start + timedelta(minutes=45)
    )


def weekly(count: int = 4) -> Series:
    return Series(
        id="ser-1",
        peer_id="p-1",
        participant_ref="PR-7F3A",
        tz=NY,
        first_start_local=datetime(2027, 3, 7, 10),
        duration=timedelta(minutes=45),
        count=count,
    )


def expand_weekly(dtstart: datetime, rule: icalendar.vRecur) -> list[datetime]:
    """A feed reader's view of FREQ=WEEKLY: same wall time each week (RFC 5545).

    Python's aware arithmetic keeps the wall clock and re-derives the offset,
    which is exactly what a TZID DTSTART with an RRULE means.
    """
    assert rule["FREQ"] == ["WEEKLY"]
    count = rule.get("COUNT", [104])[0]
    until = rule.get("UNTIL", [None])[0]
    occurrences = [dtstart + timedelta(weeks=i) for i in range(count)]
    return [o for o in occurrences if until is None or o.astimezone(UTC) <= until]


def events(text: str) -> list[icalendar.Event]:
    return list(icalendar.Calendar.from_ical(text).walk("VEVENT"))


def render(sessions: list[Session] = [], series: list[Series] = []) -> str:  # noqa: B006
    return render_ics(NY, sessions, series, "My sessions", STAMP)


def test_single_session_reads_right_in_peer_zone() -> None:
    start = datetime(2027, 3, 15, 14, 0, tzinfo=UTC)  # 10:00 EDT
    (event,) = events(render([single(start)]))
    dtstart = event.decoded("dtstart")
    assert str(dtstart.tzinfo) == NY and (dtstart.hour, dtstart.minute) == (10, 0)
    assert dtstart == start
    assert event["summary"] == TITLE and str(event["uid"]) == "s-1@alongside"


def test_vtimezone_is_included_and_gives_the_right_offsets() -> None:
    cal = icalendar.Calendar.from_ical(render([single(datetime(2027, 3, 15, 14, tzinfo=UTC))]))
    (vtz,) = cal.walk("VTIMEZONE")
    assert str(vtz["tzid"]) == NY
    feed_zone = vtz.to_tz()
    assert datetime(2027, 3, 15, 10, tzinfo=feed_zone).utcoffset() == timedelta(hours=-4)
    assert datetime(2027, 3, 1, 10, tzinfo=feed_zone).utcoffset() == timedelta(hours=-5)


def test_uid_is_stable_and_sequence_bumps_on_change() -> None:
    original = single(datetime(2027, 3, 15, 14, tzinfo=UTC))
    moved = reschedule(original, start=datetime(2027, 3, 16, 14, tzinfo=UTC), now=STAMP, notice=timedelta(0))
    (before,), (after,) = events(render([original])), events(render([moved]))
    assert before["uid"] == after["uid"]
    assert (int(before["sequence"]), int(after["sequence"])) == (0, 1)
    assert render([original]) == render([original])  # deterministic


def test_cancelled_session_is_status_cancelled_without_the_reason() -> None:
    done = cancel(
        single(datetime(2027, 3, 15, 14, tzinfo=UTC)), reason=f"{CANARY} moved away", now=STAMP, notice=timedelta(0)
    )
    text = render([done])
    (event,) = events(text)
    assert event["status"] == "CANCELLED" and int(event["sequence"]) == 1
    assert CANARY not in text and "moved away" not in text


def test_feed_carries_no_name_and_the_function_accepts_none() -> None:
    text = render([single(datetime(2027, 3, 15, 14, tzinfo=UTC))], [weekly()])
    assert CANARY not in text and "PR-7F3A" in text
    params = set(inspect.signature(render_ics).parameters)
    assert params == {"peer_tz", "sessions", "series", "calendar_name", "dtstamp", "groups"}
    assert not {"name", "participant_name", "title", "summary"} & set(Session.__dataclass_fields__)


def test_a_group_is_one_rrule_with_the_group_title_and_no_participant() -> None:
    group = replace(weekly(), id="p-1~g1", participant_ref="", session_type="group")
    (master,) = events(render_ics(NY, [], [], "My sessions", STAMP, [group]))
    assert str(master["summary"]) == "Peer support group" and "description" not in master
    assert master["rrule"]["COUNT"] == [4] and master.decoded("dtstart").hour == 10


def test_series_is_an_rrule_that_stays_at_10_local() -> None:
    (master,) = events(render(series=[weekly()]))
    dtstart = master.decoded("dtstart")
    assert str(dtstart.tzinfo) == NY and dtstart.hour == 10
    rule = master["rrule"]
    assert rule["FREQ"] == ["WEEKLY"] and rule["COUNT"] == [4]
    occurrences = expand_weekly(dtstart, rule)
    assert [o.hour for o in occurrences] == [10] * 4
    assert [o.astimezone(UTC) for o in occurrences] == [o.interval.start for o in weekly().occurrences()]
    assert occurrences[0].utcoffset() != occurrences[1].utcoffset()  # across spring-forward


def test_cancelled_occurrence_is_an_exdate() -> None:
    (master,) = events(render(series=[cancel_occurrence(weekly(), 1)]))
    exdates = [d.dt for d in master["exdate"].dts]
    assert exdates == [datetime(2027, 3, 14, 10, tzinfo=zone(NY))]
    assert int(master["sequence"]) == 1


def test_moved_occurrence_is_a_recurrence_id_override() -> None:
    new_start = datetime(2027, 3, 22, 19, tzinfo=UTC)  # 15:00 EDT
    master, override = events(render(series=[move_occurrence(weekly(), 2, new_start)]))
    assert override["uid"] == master["uid"]
    assert override.decoded("recurrence-id") == datetime(2027, 3, 21, 10, tzinfo=zone(NY))
    assert override.decoded("dtstart") == new_start and override.decoded("dtstart").hour == 15


def test_truncated_series_has_utc_until_on_last_kept_start() -> None:
    (master,) = events(render(series=[truncate(weekly(), 2)]))
    until = master["rrule"]["UNTIL"][0]
    assert until == datetime(2027, 3, 14, 14, tzinfo=UTC)
    occurrences = expand_weekly(master.decoded("dtstart"), master["rrule"])
    assert len(occurrences) == 2


def test_cancelled_series_is_status_cancelled() -> None:
    (master,) = events(render(series=[truncate(weekly(), 0)]))
    assert master["status"] == "CANCELLED"


def test_time_in_repeated_hour_reads_back_unambiguously() -> None:
    first = datetime(2027, 11, 7, 5, 30, tzinfo=UTC)  # 01:30 EDT
    second = datetime(2027, 11, 7, 6, 30, tzinfo=UTC)  # 01:30 EST
    text = render([single(first, "a"), single(second, "b")])
    parsed = {str(e["uid"]): e.decoded("dtstart") for e in events(text)}
    # Compare in UTC: Python's == across zones is False for any time in a fold (PEP 495).
    assert parsed["a@alongside"].astimezone(UTC) == first
    assert parsed["b@alongside"].astimezone(UTC) == second
    assert "DTSTART;TZID=America/New_York:20271107T013000" in text  # first pass as wall time
    assert "DTSTART:20271107T063000Z" in text  # second pass cannot be a wall time
    tz = zone(NY)
    assert [parsed[k].astimezone(tz).utcoffset() for k in ("a@alongside", "b@alongside")] == [
        timedelta(hours=-4),
        timedelta(hours=-5),
    ]
    assert {parsed[k].astimezone(tz).strftime("%H:%M") for k in parsed} == {"01:30"}


def test_series_sessions_are_not_duplicated_as_single_events() -> None:
    start = datetime(2027, 3, 7, 15, tzinfo=UTC)
    member = Session(
        id="ser-1.0",
        peer_id="p-1",
        participant_ref="PR-7F3A",
        start=start,
        end=start + timedelta(minutes=45),
        series_id="ser-1",
        occurrence_index=0,
    )
    assert [str(e["uid"]) for e in events(render([member], [weekly()]))] == ["ser-1@alongside"]


def test_until_series_is_rendered_with_until() -> None:
    by_until = Series(
        id="ser-u",
        peer_id="p",
        participant_ref="r",
        tz=NY,
        first_start_local=datetime(2027, 3, 7, 10),
        duration=timedelta(minutes=30),
        until=date(2027, 3, 21),
    )
    (master,) = events(render(series=[by_until]))
    assert master["rrule"]["UNTIL"][0] == datetime(2027, 3, 21, 14, tzinfo=UTC)
