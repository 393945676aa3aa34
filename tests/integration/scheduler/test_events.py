"""Every session.* event carries ids and facts only."""

from __future__ import annotations

import re
from datetime import timedelta

from google.protobuf.message import Message

from alongside.api.matcher.v1 import events_pb2 as matcher_ev
from alongside.api.scheduler.v1 import events_pb2 as ev
from alongside.api.scheduler.v1 import scheduler_pb2 as pb
from alongside.kit.testing.wait import eventually

from .conftest import NOW, Scheduler, ts, window

SCHEMAS: dict[str, type[Message]] = {
    "session.booked": ev.SessionBooked,
    "session.rescheduled": ev.SessionRescheduled,
    "session.cancelled": ev.SessionCancelled,
    "session.reminder_due": ev.SessionReminderDue,
    "session.unschedulable": ev.SessionUnschedulable,
}
ID = re.compile(r"^[A-Za-z0-9_.:~-]+$")


def strings(message: Message) -> list[str]:
    return [value for field, value in message.ListFields() if isinstance(value, str)]


async def test_events_carry_ids_and_facts_only(scheduler: Scheduler) -> None:
    await scheduler.peer("p1")
    start = NOW + timedelta(days=2, hours=3)
    session = (
        await scheduler.book(
            "b",
            start=start,
            participant_time_zone="Europe/Paris",
            participant_availability=[window(d, 0, 24) for d in range(1, 8)],
            match_id="m1",
        )
    ).session
    await scheduler.stub.RescheduleSession(
        pb.RescheduleSessionRequest(
            idempotency_key="r", session_id=session.session_id, new_start=ts(start + timedelta(hours=1))
        )
    )
    scheduler.clock.advance(timedelta(days=1, hours=4))  # the day-before reminder falls due

    async def reminded() -> bool:
        return any(e.type == "session.reminder_due" for e in await scheduler.events())

    await eventually(reminded, what="the reminder")
    accepted = matcher_ev.MatchAccepted(
        match_id="m2",
        peer_id="p1",
        participant_ref="ref-2",
        participant_time_zone="Asia/Tokyo",
        participant_availability=[window(7, 1, 2)],
    )
    await scheduler.publish("match.accepted", accepted)
    await scheduler.stub.CancelSession(
        pb.CancelSessionRequest(idempotency_key="c", session_id=session.session_id, reason=1, override_notice=True)
    )

    async def everything() -> bool:
        kinds = {e.type for e in await scheduler.events()}
        return kinds >= set(SCHEMAS)

    await eventually(everything, what="one event of each kind")
    for event in await scheduler.events():
        assert event.source == "/alongside/scheduler"
        body = event.parse(SCHEMAS[event.type])
        for value in strings(body):
            assert ID.match(value), (event.type, value)
            assert "Europe" not in value and "Asia" not in value
        assert b"Europe/Paris" not in event.body and b"Asia/Tokyo" not in event.body
        assert set(event.headers()) <= {
            "Nats-Msg-Id",
            "ce-specversion",
            "ce-id",
            "ce-source",
            "ce-type",
            "ce-time",
            "ce-dataschema",
            "content-type",
            "ce-subject",
            "ce-correlationid",
        }
