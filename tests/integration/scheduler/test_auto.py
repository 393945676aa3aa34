"""match.accepted books the first session; match.closed cancels the future ones."""

from __future__ import annotations

from datetime import timedelta

from alongside.api.matcher.v1 import events_pb2 as matcher_ev
from alongside.api.matcher.v1 import matcher_pb2 as matcher_pb
from alongside.api.scheduler.v1 import events_pb2 as ev
from alongside.api.scheduler.v1 import scheduler_pb2 as pb
from alongside.kit.events.envelope import Event
from alongside.kit.testing.wait import eventually
from alongside.scheduler.adapters.commit import Committer
from alongside.scheduler.adapters.store import SchedulerStore
from alongside.scheduler.service.auto import MatchEvents
from alongside.scheduler.service.booking import Booking
from alongside.scheduler.service.context import Context
from alongside.scheduler.settings import SchedulerSettings

from .conftest import NOW, Scheduler, window


def accepted(match_id: str, peer_id: str = "p1", **extra: object) -> matcher_ev.MatchAccepted:
    base: dict[str, object] = {
        "match_id": match_id,
        "request_id": f"req-{match_id}",
        "peer_id": peer_id,
        "participant_ref": f"ref-{match_id}",
        "urgency": matcher_pb.URGENCY_ROUTINE,
        "participant_time_zone": "Europe/London",
        "participant_availability": [window(d, 14, 20) for d in range(1, 6)],
        "session_minutes": 60,
    }
    base.update(extra)
    return matcher_ev.MatchAccepted(**base)  # type: ignore[arg-type]


async def outcome(s: Scheduler, match_id: str) -> Event:
    async def seen() -> Event | None:
        for event in await s.events():
            if event.type == "session.booked" and event.parse(ev.SessionBooked).match_id == match_id:
                return event
            if event.type == "session.unschedulable" and event.parse(ev.SessionUnschedulable).match_id == match_id:
                return event
        return None

    found: list[Event] = []

    async def arrived() -> bool:
        event = await seen()
        if event is not None:
            found.append(event)
        return event is not None

    await eventually(arrived, what=f"outcome of {match_id}")
    return found[0]


async def test_accepted_match_gets_the_earliest_common_slot(scheduler: Scheduler) -> None:
    await scheduler.peer("p1", "America/New_York")
    await scheduler.publish("match.accepted", accepted("m1"))
    booked = (await outcome(scheduler, "m1")).parse(ev.SessionBooked)
    got = (await scheduler.stub.GetSession(pb.GetSessionRequest(session_id=booked.session_id))).session
    # London 14:00 is New York 09:00 this week: the first time both can make.
    assert got.peer_local_start == "2027-03-01T09:00:00-05:00"
    assert got.participant_local_start == "2027-03-01T14:00:00+00:00"
    assert (got.session_type, got.match_id) == ("intake", "m1")


async def test_urgent_match_is_booked_within_48_hours(scheduler: Scheduler) -> None:
    await scheduler.peer("p1", "America/New_York", [window(d, 9, 10) for d in range(1, 6)])
    await scheduler.book("busy", start=NOW + timedelta(hours=2))  # Monday's only hour is taken
    await scheduler.publish("match.accepted", accepted("urgent", urgency=matcher_pb.URGENCY_URGENT))
    booked = (await outcome(scheduler, "urgent")).parse(ev.SessionBooked)
    start = booked.start.ToDatetime().replace(tzinfo=NOW.tzinfo)
    assert start == NOW + timedelta(days=1, hours=2)  # Tuesday 09:00 in New York
    assert start - NOW <= timedelta(hours=48)


async def test_no_common_time_is_unschedulable_with_a_reason(scheduler: Scheduler) -> None:
    await scheduler.peer("p1", "America/New_York")
    weekends = [window(6, 9, 17), window(7, 9, 17)]
    await scheduler.publish("match.accepted", accepted("m1", participant_availability=weekends))
    event = (await outcome(scheduler, "m1")).parse(ev.SessionUnschedulable)
    assert (event.match_id, event.peer_id, event.reason) == ("m1", "p1", "no_common_availability")


async def test_availability_arriving_late_is_retried(scheduler: Scheduler) -> None:
    await scheduler.publish("match.accepted", accepted("late", peer_id="p9"))
    await scheduler.peer("p9", "America/New_York", wait=False)
    assert (await outcome(scheduler, "late")).type == "session.booked"


async def test_availability_never_arriving_is_unschedulable(scheduler: Scheduler) -> None:
    await scheduler.publish("match.accepted", accepted("lost", peer_id="ghost"))
    event = (await outcome(scheduler, "lost")).parse(ev.SessionUnschedulable)
    assert event.reason == "peer_availability_unknown"


async def test_a_redelivered_event_books_once(scheduler: Scheduler) -> None:
    await scheduler.peer("p1", "America/New_York")
    deps = scheduler.runtime.deps
    assert deps is not None
    settings = scheduler.runtime.settings
    assert isinstance(settings, SchedulerSettings)
    ctx = Context(
        SchedulerStore(deps.redis, deps.keys),
        Committer(deps.redis),
        deps.uow,
        deps.outbox,
        settings,
        settings.policy(),
        scheduler.clock,
    )
    handler = MatchEvents(ctx, Booking(ctx))
    event = Event.of("match.accepted", "/alongside/matcher", accepted("twice"))
    await handler.accepted(event)
    await handler.accepted(event)
    booked = [e for e in await scheduler.events() if e.type == "session.booked"]
    assert len(booked) == 1


async def test_closed_match_cancels_its_future_sessions(scheduler: Scheduler) -> None:
    await scheduler.peer("p1", "America/New_York")
    first = await scheduler.book("one", start=NOW + timedelta(days=1, hours=3), match_id="m1")
    weekly = await scheduler.book(
        "weekly", start=NOW + timedelta(days=2, hours=3), match_id="m1", recurrence=pb.Recurrence(count=3)
    )
    other = await scheduler.book("other", start=NOW + timedelta(days=1, hours=5), match_id="m2")
    closed = matcher_ev.MatchClosed(
        match_id="m1", request_id="r1", peer_id="p1", reason=matcher_pb.CLOSE_REASON_COMPLETED
    )
    await scheduler.publish("match.closed", closed)
    ids = {first.session.session_id, *(o.session_id for o in weekly.occurrences)}

    async def all_cancelled() -> bool:
        events = await scheduler.events()
        return {e.parse(ev.SessionCancelled).session_id for e in events if e.type == "session.cancelled"} == ids

    await eventually(all_cancelled, what="the match's sessions cancelled")
    for event in await scheduler.events():
        if event.type == "session.cancelled":
            assert event.parse(ev.SessionCancelled).reason == pb.CANCEL_REASON_MATCH_CLOSED
    kept = await scheduler.stub.GetSession(pb.GetSessionRequest(session_id=other.session.session_id))
    assert kept.session.status == pb.SESSION_STATUS_BOOKED
