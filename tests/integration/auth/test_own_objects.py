"""A peer reaches their own objects and no one else's, tried on objects that
exist: peer A's roster entry, match, assignment, booked session, calendar,
inbox item and preferences. Peer B is refused on each and changes nothing;
peer A is let through."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from alongside.api.matcher.v1 import matcher_pb2 as mpb
from alongside.api.matcher.v1 import matcher_pb2_grpc
from alongside.api.notifier.v1 import notifier_pb2 as npb
from alongside.api.notifier.v1 import notifier_pb2_grpc
from alongside.api.scheduler.v1 import scheduler_pb2 as spb
from alongside.api.scheduler.v1 import scheduler_pb2_grpc
from alongside.kit.auth.client import bearer_channel
from alongside.kit.testing.auth import token
from alongside.kit.testing.wait import eventually

from ..matcher.conftest import intake, peer
from .test_blank_subject import hand_made

NEW_YORK = ZoneInfo("America/New_York")


@dataclass
class Stubs:
    matcher: matcher_pb2_grpc.MatcherServiceStub
    scheduler: scheduler_pb2_grpc.SchedulerServiceStub
    notifier: notifier_pb2_grpc.NotifierServiceStub


@dataclass
class Owned:
    """What exists for peer A at the start of each check."""

    peer_id: str
    match_id: str
    session_id: str
    notification_id: str


Call = Callable[[Stubs, Owned], Awaitable[Any]]


class Callers:
    """Open channels per (role, subject), closed at the end."""

    def __init__(self, ports: dict[str, int]) -> None:
        self._ports, self._channels = ports, []  # type: ignore[var-annotated]

    def stubs(self, role: str, subject: str) -> Stubs:
        return self.bearing(token(role, subject))

    def bearing(self, bearer: str) -> Stubs:
        chans = {name: bearer_channel(f"127.0.0.1:{port}", bearer) for name, port in self._ports.items()}
        self._channels.extend(chans.values())
        return Stubs(
            matcher_pb2_grpc.MatcherServiceStub(chans["matcher"]),
            scheduler_pb2_grpc.SchedulerServiceStub(chans["scheduler"]),
            notifier_pb2_grpc.NotifierServiceStub(chans["notifier"]),
        )

    async def close(self) -> None:
        for chan in self._channels:
            await chan.close()


def ts(instant: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(instant)
    return stamp


async def make_objects(admin: Stubs, own: Stubs, peer_id: str) -> Owned:
    """A's roster entry, an accepted match, a booked session, preferences and an inbox item."""
    await admin.matcher.UpsertPeer(mpb.UpsertPeerRequest(idempotency_key=f"up-{peer_id}", peer=peer(peer_id)))
    await own.notifier.SetContactPreferences(
        npb.SetContactPreferencesRequest(
            idempotency_key=f"prefs-{peer_id}",
            preferences=npb.ContactPreferences(peer_id=peer_id, language="en", time_zone="America/New_York"),
        )
    )
    submitted = await admin.matcher.SubmitMatchRequest(
        intake(f"in-{peer_id}", peer_types=[mpb.PEER_TYPE_RECOVERY_COACH])
    )
    accepted = await admin.matcher.AcceptMatch(
        mpb.AcceptMatchRequest(
            idempotency_key=f"acc-{peer_id}", request_id=submitted.request.request_id, peer_id=peer_id
        )
    )

    async def calendar_known() -> bool:
        try:
            await admin.scheduler.GetCalendarFeed(spb.GetCalendarFeedRequest(peer_id=peer_id))
        except grpc.aio.AioRpcError as exc:
            if exc.code() != grpc.StatusCode.NOT_FOUND:
                raise
            return False
        return True

    await eventually(calendar_known, timeout=20.0, what="the peer's calendar reaches the scheduler")
    booked = await admin.scheduler.BookSession(
        spb.BookSessionRequest(
            idempotency_key=f"book-{peer_id}",
            peer_id=peer_id,
            participant_ref=f"ref-in-{peer_id}",
            match_id=accepted.match.match_id,
            duration_minutes=30,
            start=ts(weekday_afternoon_next_week()),
        )
    )
    inbox: list[str] = []

    async def notified() -> bool:
        reply = await own.notifier.ListNotifications(npb.ListNotificationsRequest(peer_id=peer_id))
        inbox[:] = [n.notification_id for n in reply.notifications]
        return len(inbox) >= 3

    # The new assignment, the first session the scheduler booked by itself and
    # the one booked here: all three, newest first (waiting for two let the
    # third arrive during the test, on a busy machine, and change the inbox).
    await eventually(notified, timeout=20.0, what="notifications in A's inbox")
    return Owned(peer_id, accepted.match.match_id, booked.session.session_id, inbox[-1])


def weekday_afternoon_next_week() -> datetime:
    """15:00 in New York on a weekday a week or more ahead: inside the peer's availability (Monday to
    Friday 9-17) and far past the notice window, so the owner may cancel it without staff. (The earliest
    free slot, booked when none is named, is inside that window whenever the test runs after 14:00 UTC
    the day before it.)"""
    day = datetime.now(NEW_YORK).date() + timedelta(days=7)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime.combine(day, time(15, 0), tzinfo=NEW_YORK)


def later() -> Timestamp:
    return ts(datetime.now(UTC) + timedelta(days=40))


# Every RPC that reaches one of A's objects, as B would try it.
REACH: dict[str, Call] = {
    "matcher.GetPeer": lambda s, o: s.matcher.GetPeer(mpb.GetPeerRequest(peer_id=o.peer_id)),
    "matcher.GetMatch": lambda s, o: s.matcher.GetMatch(mpb.GetMatchRequest(match_id=o.match_id)),
    "matcher.GetAssignment": lambda s, o: s.matcher.GetAssignment(mpb.GetAssignmentRequest(match_id=o.match_id)),
    "scheduler.GetSession": lambda s, o: s.scheduler.GetSession(spb.GetSessionRequest(session_id=o.session_id)),
    "scheduler.ListSessions(peer_id)": lambda s, o: s.scheduler.ListSessions(
        spb.ListSessionsRequest(peer_id=o.peer_id)
    ),
    "scheduler.ListSessions(all)": lambda s, o: s.scheduler.ListSessions(spb.ListSessionsRequest()),
    "scheduler.GetCalendarFeed": lambda s, o: s.scheduler.GetCalendarFeed(
        spb.GetCalendarFeedRequest(peer_id=o.peer_id)
    ),
    "scheduler.FindSlots": lambda s, o: s.scheduler.FindSlots(
        spb.FindSlotsRequest(peer_id=o.peer_id, duration_minutes=30)
    ),
    "scheduler.AddTimeOff": lambda s, o: s.scheduler.AddTimeOff(
        spb.AddTimeOffRequest(
            idempotency_key=f"off-{uuid.uuid4().hex}",
            peer_id=o.peer_id,
            start=later(),
            end=ts(datetime.now(UTC) + timedelta(days=41)),
        )
    ),
    "scheduler.RescheduleSession": lambda s, o: s.scheduler.RescheduleSession(
        spb.RescheduleSessionRequest(
            idempotency_key=f"re-{uuid.uuid4().hex}", session_id=o.session_id, new_start=later()
        )
    ),
    "scheduler.CancelSession": lambda s, o: s.scheduler.CancelSession(
        spb.CancelSessionRequest(
            idempotency_key=f"cx-{uuid.uuid4().hex}", session_id=o.session_id, reason=spb.CANCEL_REASON_PEER_UNAVAILABLE
        )
    ),
    "scheduler.MarkAttended": lambda s, o: s.scheduler.MarkAttended(
        spb.MarkAttendedRequest(idempotency_key=f"at-{uuid.uuid4().hex}", session_id=o.session_id)
    ),
    "scheduler.MarkNoShow": lambda s, o: s.scheduler.MarkNoShow(
        spb.MarkNoShowRequest(idempotency_key=f"ns-{uuid.uuid4().hex}", session_id=o.session_id)
    ),
    "notifier.ListNotifications": lambda s, o: s.notifier.ListNotifications(
        npb.ListNotificationsRequest(peer_id=o.peer_id)
    ),
    "notifier.Acknowledge": lambda s, o: s.notifier.Acknowledge(
        npb.AcknowledgeRequest(
            idempotency_key=f"ack-{uuid.uuid4().hex}", peer_id=o.peer_id, notification_ids=[o.notification_id]
        )
    ),
    "notifier.GetContactPreferences": lambda s, o: s.notifier.GetContactPreferences(
        npb.GetContactPreferencesRequest(peer_id=o.peer_id)
    ),
    "notifier.SetContactPreferences": lambda s, o: s.notifier.SetContactPreferences(
        npb.SetContactPreferencesRequest(
            idempotency_key=f"p-{uuid.uuid4().hex}",
            preferences=npb.ContactPreferences(peer_id=o.peer_id, language="es", time_zone="Europe/Madrid"),
        )
    ),
    "notifier.WatchNotifications": lambda s, o: _first_watched(s, o),
}


async def _first_watched(s: Stubs, o: Owned) -> npb.WatchNotificationsResponse:
    """Resumed after A's oldest item, so an allowed caller gets the next one at once."""
    call = s.notifier.WatchNotifications(npb.WatchNotificationsRequest(peer_id=o.peer_id, after_id=o.notification_id))
    try:
        return await asyncio.wait_for(call.read(), 5)  # type: ignore[no-any-return]
    finally:
        call.cancel()


async def state_of(admin: Stubs, own: Stubs, o: Owned) -> tuple[object, ...]:
    """What B's attempts must leave unchanged."""
    session = (await admin.scheduler.GetSession(spb.GetSessionRequest(session_id=o.session_id))).session
    inbox = await own.notifier.ListNotifications(npb.ListNotificationsRequest(peer_id=o.peer_id))
    prefs = await own.notifier.GetContactPreferences(npb.GetContactPreferencesRequest(peer_id=o.peer_id))
    feed = await admin.scheduler.GetCalendarFeed(spb.GetCalendarFeedRequest(peer_id=o.peer_id))
    return (
        session.SerializeToString(deterministic=True),
        [(n.notification_id, n.read) for n in inbox.notifications],
        prefs.preferences.SerializeToString(deterministic=True),
        feed.ics.count("BEGIN:VEVENT"),
    )


@pytest.fixture
async def world(ports: dict[str, int]) -> Any:
    callers = Callers(ports)
    a, b = f"pa-{uuid.uuid4().hex[:8]}", f"pb-{uuid.uuid4().hex[:8]}"
    admin = callers.stubs("admin", "test-admin")
    own = callers.stubs("peer", a)
    owned = await make_objects(admin, own, a)
    await admin.matcher.UpsertPeer(mpb.UpsertPeerRequest(idempotency_key=f"up-{b}", peer=peer(b)))
    outsiders = {"peer B": callers.stubs("peer", b), "a blank subject": callers.bearing(hand_made(" "))}
    yield admin, own, outsiders, owned
    await callers.close()


@pytest.mark.parametrize(
    ("outsider", "refusal"),
    [("peer B", grpc.StatusCode.PERMISSION_DENIED), ("a blank subject", grpc.StatusCode.UNAUTHENTICATED)],
)
async def test_an_outsider_is_refused_on_every_object_that_exists_and_changes_nothing(
    world: Any, outsider: str, refusal: grpc.StatusCode
) -> None:
    admin, own, outsiders, owned = world
    before = await state_of(admin, own, owned)
    wrong = []
    for name, reach in REACH.items():
        try:
            await reach(outsiders[outsider], owned)
            wrong.append(f"{name}: OK")
        except grpc.aio.AioRpcError as exc:
            if exc.code() != refusal:
                wrong.append(f"{name}: {exc.code().name}")
    assert not wrong, "\n".join(wrong)
    assert await state_of(admin, own, owned) == before


async def test_the_owner_reaches_each_of_them(world: Any) -> None:
    _, own, _, owned = world
    assert (await own.matcher.GetPeer(mpb.GetPeerRequest(peer_id=owned.peer_id))).peer.peer_id == owned.peer_id
    assert (await own.matcher.GetMatch(mpb.GetMatchRequest(match_id=owned.match_id))).match.peer_id == owned.peer_id
    assignment = await own.matcher.GetAssignment(mpb.GetAssignmentRequest(match_id=owned.match_id))
    assert assignment.assignment.match_id == owned.match_id
    got = await own.scheduler.GetSession(spb.GetSessionRequest(session_id=owned.session_id))
    assert got.session.peer_id == owned.peer_id
    listed = await own.scheduler.ListSessions(spb.ListSessionsRequest(peer_id=owned.peer_id))
    assert owned.session_id in [s.session_id for s in listed.sessions]
    assert {s.peer_id for s in listed.sessions} == {owned.peer_id}
    feed = await own.scheduler.GetCalendarFeed(spb.GetCalendarFeedRequest(peer_id=owned.peer_id))
    assert "BEGIN:VEVENT" in feed.ics
    prefs = await own.notifier.GetContactPreferences(npb.GetContactPreferencesRequest(peer_id=owned.peer_id))
    assert prefs.preferences.time_zone == "America/New_York"
    watched = await _first_watched(own, owned)
    assert watched.notification.peer_id == owned.peer_id
    acked = await own.notifier.Acknowledge(
        npb.AcknowledgeRequest(
            idempotency_key="ack-own", peer_id=owned.peer_id, notification_ids=[owned.notification_id]
        )
    )
    assert acked.acknowledged == 1
    cancel = spb.CancelSessionRequest(
        idempotency_key="cx-own", session_id=owned.session_id, reason=spb.CANCEL_REASON_PEER_UNAVAILABLE
    )
    (cancelled,) = (await own.scheduler.CancelSession(cancel)).sessions
    assert cancelled.status == spb.SESSION_STATUS_CANCELLED
