"""FindSlots over the roster's windows: other zones, skipped hours, latest version only."""

from __future__ import annotations

from datetime import datetime

import grpc

from alongside.api.matcher.v1 import events_pb2 as matcher_ev
from alongside.api.matcher.v1 import matcher_pb2 as matcher_pb
from alongside.api.scheduler.v1 import scheduler_pb2 as pb

from .conftest import Scheduler, rpc_error, ts, utc, window


def local(slot: pb.Slot) -> datetime:
    return datetime.fromisoformat(slot.peer_local_start)


async def test_slots_use_both_peoples_windows_across_zones(scheduler: Scheduler) -> None:
    await scheduler.peer("p1", "America/New_York")
    berlin_afternoons = [window(d, 15, 18) for d in range(1, 6)]  # 09:00-12:00 in New York this week
    reply = await scheduler.stub.FindSlots(
        pb.FindSlotsRequest(
            peer_id="p1",
            session_type="intake",
            participant_time_zone="Europe/Berlin",
            participant_availability=berlin_afternoons,
            limit=30,
        )
    )
    first = reply.slots[0]
    assert first.peer_local_start == "2027-03-01T09:00:00-05:00"
    assert first.participant_local_start == "2027-03-01T15:00:00+01:00"
    for slot in reply.slots:
        start = local(slot)
        assert start.hour >= 9 and (start.hour, start.minute) <= (11, 0)
        berlin = datetime.fromisoformat(slot.participant_local_start)
        assert 15 <= berlin.hour < 18


async def test_a_slot_in_the_skipped_hour_is_never_offered(scheduler: Scheduler) -> None:
    for peer_id, tz, day in (
        ("ny", "America/New_York", utc(2027, 3, 14, 5)),
        ("be", "Europe/Berlin", utc(2027, 3, 28)),
    ):
        await scheduler.peer(peer_id, tz, [window(7, 1, 4)])  # Sundays 01:00-04:00 local
        reply = await scheduler.stub.FindSlots(
            pb.FindSlotsRequest(
                peer_id=peer_id, duration_minutes=30, earliest=ts(day), horizon_end=ts(utc(2027, 3, 29)), limit=50
            )
        )
        starts = [local(s) for s in reply.slots if local(s).date() == day.date()]
        # Two real hours: 01:45 local runs to 03:15 local, but nothing starts at 02:xx.
        assert [(s.hour, s.minute) for s in starts] == [(1, 0), (1, 15), (1, 30), (1, 45), (3, 0), (3, 15), (3, 30)]


async def test_an_older_peer_version_never_overwrites_a_newer_one(scheduler: Scheduler) -> None:
    tuesdays = [window(2, 9, 12)]
    body = matcher_ev.PeerUpserted(
        peer_id="p1", status=matcher_pb.PEER_STATUS_ACTIVE, time_zone="UTC", availability=tuesdays, version=2
    )
    await scheduler.publish("peer.upserted", body)
    await scheduler.wait_peer("p1", 2)
    old = matcher_ev.PeerUpserted(
        peer_id="p1",
        status=matcher_pb.PEER_STATUS_INACTIVE,
        time_zone="UTC",
        availability=[window(1, 9, 12)],
        version=1,
    )
    await scheduler.publish("peer.upserted", old)
    # A later event on the same stream proves the older one was handled (and ignored).
    status = matcher_ev.PeerStatusChanged(peer_id="p1", status=matcher_pb.PEER_STATUS_ACTIVE, version=3)
    await scheduler.publish("peer.status_changed", status)
    await scheduler.peer("marker", wait=True)
    reply = await scheduler.stub.FindSlots(pb.FindSlotsRequest(peer_id="p1", session_type="check_in", limit=1))
    assert reply.slots[0].peer_local_start == "2027-03-02T09:00:00+00:00"


async def test_inactive_and_unknown_peers(scheduler: Scheduler) -> None:
    await scheduler.peer("away", status=matcher_pb.PEER_STATUS_ON_LEAVE)
    inactive = await rpc_error(scheduler.stub.FindSlots(pb.FindSlotsRequest(peer_id="away", session_type="intake")))
    assert inactive.code() == grpc.StatusCode.FAILED_PRECONDITION
    booking = await rpc_error(scheduler.book("x", peer_id="away", start=utc(2027, 3, 2, 15)))
    assert booking.code() == grpc.StatusCode.FAILED_PRECONDITION
    unknown = await rpc_error(scheduler.stub.FindSlots(pb.FindSlotsRequest(peer_id="nobody", session_type="intake")))
    assert unknown.code() == grpc.StatusCode.NOT_FOUND


async def test_no_slot_says_which_constraint_emptied_the_list(scheduler: Scheduler) -> None:
    await scheduler.peer("p1", "America/New_York")
    reply = await scheduler.stub.FindSlots(
        pb.FindSlotsRequest(
            peer_id="p1",
            session_type="intake",
            participant_time_zone="America/New_York",
            participant_availability=[window(6, 9, 17)],  # Saturdays only
        )
    )
    assert not reply.slots
    assert "never overlap" in reply.unavailable_reason
