"""The "taken" hint only picks the cheaper route; the commit script decides.

Two replicas share one Redis: the gRPC server under test, and a second
``Booking`` with its own hint. A stale hint (the slot was freed by the other
replica) must not refuse, and a missing one (the other replica booked) must
not let a double booking through.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from alongside.api.scheduler.v1 import scheduler_pb2 as pb
from alongside.kit.errors import FailedPrecondition
from alongside.scheduler.adapters.codec import ms
from alongside.scheduler.adapters.commit import Committer
from alongside.scheduler.adapters.store import SchedulerStore
from alongside.scheduler.service.booking import Booking
from alongside.scheduler.service.context import Context
from alongside.scheduler.settings import SchedulerSettings

from .conftest import Scheduler, ts, utc

SLOT = utc(2027, 3, 2, 15)  # Tuesday 10:00 in New York; intake sessions last an hour
PAD = 15 * 60_000


def other_replica(scheduler: Scheduler) -> Context:
    deps, settings = scheduler.runtime.deps, scheduler.runtime.settings
    assert deps is not None and isinstance(settings, SchedulerSettings)
    store = SchedulerStore(deps.redis, deps.keys)
    return Context(store, Committer(deps.redis), deps.uow, deps.outbox, settings, settings.policy(), scheduler.clock)


def request(key: str, start: datetime) -> pb.BookSessionRequest:
    return pb.BookSessionRequest(
        idempotency_key=key, peer_id="p1", participant_ref=f"ref-{key}", session_type="intake", start=ts(start)
    )


def looks_taken(ctx: Context, start: datetime) -> bool:
    return ctx.taken.likely("p1", ms(start), ms(start + timedelta(hours=1)), PAD)


async def booked_starts(scheduler: Scheduler) -> list[datetime]:
    reply = await scheduler.stub.ListSessions(pb.ListSessionsRequest(peer_id="p1", page_size=50))
    return sorted(s.start.ToDatetime() for s in reply.sessions if s.status == pb.SESSION_STATUS_BOOKED)


async def test_a_stale_hint_never_refuses_a_freed_slot(scheduler: Scheduler) -> None:
    await scheduler.peer("p1")
    ctx = other_replica(scheduler)
    booking = Booking(ctx)
    first = await booking.book(request("a", SLOT))
    assert looks_taken(ctx, SLOT)
    assert await booking.book(request("a", SLOT)) == first  # a replay is answered by the probe
    cancel = pb.CancelSessionRequest(
        idempotency_key="c", session_id=first.session.session_id, reason=pb.CANCEL_REASON_PARTICIPANT_REQUEST
    )
    await scheduler.stub.CancelSession(cancel)  # by the gRPC replica: this hint never hears of it
    trips = ctx.committer.round_trips
    moved = SLOT + timedelta(minutes=30)
    second = await booking.book(request("b", moved))
    assert second.session.start.ToDatetime() == moved.replace(tzinfo=None)
    assert ctx.committer.round_trips == trips + 2  # the probe found the slot free, then the write
    assert looks_taken(ctx, moved)
    assert await booked_starts(scheduler) == [moved.replace(tzinfo=None)]


async def test_a_missing_hint_never_lets_a_double_booking_through(scheduler: Scheduler) -> None:
    await scheduler.peer("p1")
    await scheduler.book("a", start=SLOT, session_type="intake")
    ctx = other_replica(scheduler)
    booking = Booking(ctx)
    assert not looks_taken(ctx, SLOT)
    with pytest.raises(FailedPrecondition, match="overlaps"):
        await booking.book(request("b", SLOT + timedelta(minutes=30)))
    assert looks_taken(ctx, SLOT)  # the refusal named the session in the way
    trips = ctx.committer.round_trips
    with pytest.raises(FailedPrecondition, match="overlaps"):
        await booking.book(request("c", SLOT - timedelta(minutes=30)))
    assert ctx.committer.round_trips == trips + 1  # refused by the probe alone
    assert await booked_starts(scheduler) == [SLOT.replace(tzinfo=None)]
