"""The peer's ICS feed, parsed back with icalendar."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import icalendar

from alongside.api.scheduler.v1 import scheduler_pb2 as pb

from .conftest import Scheduler, ts, utc

NEW_YORK = ZoneInfo("America/New_York")


async def feed(s: Scheduler, peer_id: str = "p1") -> list[icalendar.Event]:
    text = (await s.stub.GetCalendarFeed(pb.GetCalendarFeedRequest(peer_id=peer_id))).ics
    calendar = icalendar.Calendar.from_ical(text)
    return list(calendar.walk("VEVENT"))


def by_uid(events: list[icalendar.Event]) -> dict[str, list[icalendar.Event]]:
    out: dict[str, list[icalendar.Event]] = {}
    for event in events:
        out.setdefault(str(event["UID"]), []).append(event)
    return out


def start_of(event: icalendar.Event) -> datetime:
    value = event.decoded("DTSTART")
    assert isinstance(value, datetime)
    return value


async def test_feed_round_trip(scheduler: Scheduler) -> None:
    await scheduler.peer("p1", "America/New_York")
    single = (await scheduler.book("one", start=utc(2027, 3, 2, 15), participant_time_zone="Europe/Paris")).session
    weekly = await scheduler.book("weekly", start=utc(2027, 3, 8, 15), recurrence=pb.Recurrence(count=3))
    before = by_uid(await feed(scheduler))
    uid = f"{single.session_id}@alongside"
    (event,) = before[uid]
    assert start_of(event) == datetime(2027, 3, 2, 10, tzinfo=NEW_YORK)
    assert str(start_of(event).tzinfo) == "America/New_York"
    assert (int(event["SEQUENCE"]), str(event["STATUS"])) == (0, "CONFIRMED")

    await scheduler.stub.RescheduleSession(
        pb.RescheduleSessionRequest(
            idempotency_key="mv", session_id=single.session_id, new_start=ts(utc(2027, 3, 2, 17))
        )
    )
    (moved,) = by_uid(await feed(scheduler))[uid]
    assert int(moved["SEQUENCE"]) == 1 and start_of(moved).hour == 12

    await scheduler.stub.CancelSession(
        pb.CancelSessionRequest(idempotency_key="cx", session_id=single.session_id, reason=pb.CANCEL_REASON_OTHER)
    )
    await scheduler.stub.CancelSession(
        pb.CancelSessionRequest(
            idempotency_key="cx2", session_id=weekly.occurrences[1].session_id, reason=pb.CANCEL_REASON_OTHER
        )
    )
    after = by_uid(await feed(scheduler))
    (gone,) = after[uid]
    assert (int(gone["SEQUENCE"]), str(gone["STATUS"])) == (2, "CANCELLED")
    (master,) = after[f"{weekly.session.series_id}@alongside"]
    assert master["RRULE"]["FREQ"] == ["WEEKLY"] and master["RRULE"]["COUNT"] == [3]
    assert start_of(master) == datetime(2027, 3, 8, 10, tzinfo=NEW_YORK)
    exdates = (
        [d.dt for d in master["EXDATE"].dts]
        if not isinstance(master["EXDATE"], list)
        else [d.dt for x in master["EXDATE"] for d in x.dts]
    )
    assert exdates == [datetime(2027, 3, 15, 10, tzinfo=NEW_YORK)]  # after the spring-forward, still 10:00
    assert int(master["SEQUENCE"]) == 1


async def test_feed_has_no_names_or_participant_details(scheduler: Scheduler) -> None:
    await scheduler.peer("p1", "America/New_York")
    await scheduler.book("one", start=utc(2027, 3, 2, 15), participant_time_zone="Europe/Paris", match_id="m-7")
    text = (await scheduler.stub.GetCalendarFeed(pb.GetCalendarFeedRequest(peer_id="p1"))).ics
    (event,) = [e for e in icalendar.Calendar.from_ical(text).walk("VEVENT")]
    assert str(event["SUMMARY"]) == "Peer support session"
    assert "Europe/Paris" not in text and "m-7" not in text
    assert "ATTENDEE" not in text and "ORGANIZER" not in text
