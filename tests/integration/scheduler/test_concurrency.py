"""No double booking, buffers included, under 200 concurrent requests and with
two scheduler processes: the check and the write are one atomic script."""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from datetime import UTC, datetime, timedelta

import grpc

from alongside.api.scheduler.v1 import scheduler_pb2 as pb
from alongside.api.scheduler.v1 import scheduler_pb2_grpc
from alongside.kit.testing.auth import channel as auth_channel
from alongside.kit.testing.processes import replicas

from .conftest import Scheduler, ts, utc, window

LOST = {grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.ABORTED}
BUFFER = timedelta(minutes=15)


async def race(
    stubs: list[scheduler_pb2_grpc.SchedulerServiceStub], starts: list[datetime], name: str = "race"
) -> list[grpc.StatusCode]:
    async def book(i: int, start: datetime) -> grpc.StatusCode:
        request = pb.BookSessionRequest(
            idempotency_key=f"{name}-{i}",
            peer_id="p1",
            participant_ref=f"ref-{i}",
            start=ts(start),
            session_type="intake",
        )
        try:
            await stubs[i % len(stubs)].BookSession(request)
        except grpc.aio.AioRpcError as exc:
            return exc.code()
        return grpc.StatusCode.OK

    return list(await asyncio.gather(*(book(i, s) for i, s in enumerate(starts))))


async def booked_spans(s: Scheduler) -> list[tuple[datetime, datetime]]:
    reply = await s.stub.ListSessions(pb.ListSessionsRequest(peer_id="p1", page_size=500))
    return sorted(
        (x.start.ToDatetime(), x.end.ToDatetime()) for x in reply.sessions if x.status == pb.SESSION_STATUS_BOOKED
    )


def assert_no_overlap(spans: list[tuple[datetime, datetime]]) -> None:
    for (_, end), (start, _) in itertools.pairwise(spans):
        assert start >= end + BUFFER, "two sessions overlap, buffer included"


async def test_200_concurrent_bookings_of_one_slot_give_one_success(scheduler: Scheduler) -> None:
    await scheduler.peer("p1")
    codes = await race([scheduler.stub], [utc(2027, 3, 2, 15)] * 200)
    assert codes.count(grpc.StatusCode.OK) == 1, Counter(codes)
    assert set(codes) <= {grpc.StatusCode.OK} | LOST, Counter(codes)
    assert len(await booked_spans(scheduler)) == 1
    assert len([e for e in await scheduler.events() if e.type == "session.booked"]) == 1


def next_tuesday_10am() -> datetime:
    """A slot the replica processes, on the real clock, can book: next week's Tuesday 10:00 UTC."""
    today = datetime.now(UTC).date()
    tuesday = today + timedelta(days=7 + (1 - today.weekday()) % 7)
    return datetime(tuesday.year, tuesday.month, tuesday.day, 10, tzinfo=UTC)


async def test_two_scheduler_processes_never_double_book(scheduler: Scheduler, nats_url: str, redis_url: str) -> None:
    await scheduler.peer("p1", "UTC", [window(d, 8, 20) for d in range(1, 6)])
    slot = next_tuesday_10am()
    env = {"NATS_URL": nats_url, "REDIS_URL": redis_url, "NAMESPACE": scheduler.namespace}
    with replicas("alongside.scheduler", env, count=2) as ports:
        channels = [auth_channel(f"127.0.0.1:{port}") for port in ports]
        stubs = [scheduler_pb2_grpc.SchedulerServiceStub(c) for c in channels]
        same = await race(stubs, [slot] * 200, "same")
        # Then overlapping candidates every 10 minutes over three hours, from both processes.
        near = [slot + timedelta(hours=2, minutes=10 * (i % 18)) for i in range(200)]
        spread = await race(stubs, near, "near")
        for channel in channels:
            await channel.close()
    assert same.count(grpc.StatusCode.OK) == 1, Counter(same)
    assert set(same) | set(spread) <= {grpc.StatusCode.OK} | LOST, (Counter(same), Counter(spread))
    spans = await booked_spans(scheduler)
    assert len(spans) == 1 + spread.count(grpc.StatusCode.OK) and spread.count(grpc.StatusCode.OK) >= 2
    assert_no_overlap(spans)
